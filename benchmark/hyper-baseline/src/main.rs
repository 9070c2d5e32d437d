//! A hyper server that reads each request's body and answers with the bytes given on stdin (a chat
//! completion), nothing else: the HTTP layer's own cost, for the gateway benchmark. Prints
//! `{"port":N}` once it listens on 127.0.0.1; runs until killed.

use std::convert::Infallible;
use std::io::Read;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

async fn answer(
    request: Request<Incoming>,
    body: Bytes,
) -> Result<Response<Full<Bytes>>, Infallible> {
    // Read the whole request body, as the gateway must before it can parse it.
    let _ = request.into_body().collect().await;
    Ok(Response::builder()
        .header("content-type", "application/json")
        .body(Full::new(body))
        .expect("a fixed response is valid"))
}

#[tokio::main]
async fn main() {
    let mut text = Vec::new();
    std::io::stdin()
        .read_to_end(&mut text)
        .expect("the answer on stdin");
    let body = Bytes::from(text);
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    println!(
        "{{\"port\":{}}}",
        listener.local_addr().expect("local address").port()
    );
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let body = body.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| answer(request, body.clone()));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
