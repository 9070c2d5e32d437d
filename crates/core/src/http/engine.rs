//! `HttpEngine`: pooled async HTTP (reqwest + rustls) executing plugin-built requests, with
//! timeouts and a response-size cap.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use super::address_check::{AddressCheckingResolver, NonPublicAddress};
use super::allow_list::{AllowList, origin_of};
use super::redact::redacted_uri;
use crate::error::{ErrorCode, ModelportError, Result};

/// Most redirects followed for one request.
const MAX_REDIRECTS: usize = 10;

/// Per-provider HTTP settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpOptions {
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// Time allowed for the whole exchange (connect, send, read the body); `None` = no limit.
    pub request_timeout: Option<Duration>,
    /// Largest response body accepted; larger ones fail with `RESPONSE_TOO_LARGE`.
    pub max_response_bytes: u64,
    /// Hosts that may be reached, checked on the request and on every redirect hop
    /// (`HOST_NOT_ALLOWED`); `None` = unrestricted (native plugins, which run unsandboxed anyway).
    pub allowed: Option<AllowList>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Some(Duration::from_secs(600)),
            max_response_bytes: 64 * 1024 * 1024,
            allowed: None,
        }
    }
}

/// A shared pool of HTTP clients: one per distinct connect timeout and allow-list, the two
/// settings reqwest fixes per client (the allow-list lives in the client's redirect policy).
#[derive(Clone, Default)]
pub struct HttpEngine {
    clients: Arc<Mutex<HashMap<ClientKey, reqwest::Client>>>,
}

/// What distinguishes one client from another: connect timeout and allow-list.
type ClientKey = (Duration, Option<AllowList>);

/// A redirect to a host outside the allow-list, raised from the redirect policy.
#[derive(Debug)]
struct RedirectDenied(String);

impl std::fmt::Display for RedirectDenied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "redirect to {} refused: not among the plugin's allowed destinations (base_url, allowed_hosts)",
            self.0
        )
    }
}

impl std::error::Error for RedirectDenied {}

fn redirect_policy(allowed: Option<AllowList>) -> reqwest::redirect::Policy {
    match allowed {
        None => reqwest::redirect::Policy::limited(MAX_REDIRECTS),
        Some(list) => reqwest::redirect::Policy::custom(move |attempt| {
            let url = attempt.url().to_string();
            if !list.allows_uri(&url) {
                let origin = origin_of(&url).unwrap_or_else(|| redacted_uri(&url));
                attempt.error(RedirectDenied(origin))
            } else if attempt.previous().len() >= MAX_REDIRECTS {
                attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
            } else {
                attempt.follow()
            }
        }),
    }
}

fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Fails only if another provider is already the process default, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl HttpEngine {
    /// A new engine; clients are created on first use.
    pub fn new() -> Self {
        Self::default()
    }

    fn client(&self, options: &HttpOptions) -> Result<reqwest::Client> {
        let key = (options.connect_timeout, options.allowed.clone());
        let mut clients = self
            .clients
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(client) = clients.get(&key) {
            return Ok(client.clone());
        }
        install_crypto_provider();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .redirect(redirect_policy(options.allowed.clone()))
            .pool_idle_timeout(Duration::from_secs(90))
            .user_agent(concat!("modelport/", env!("CARGO_PKG_VERSION")));
        if let Some(allowed) = &options.allowed {
            builder = builder.dns_resolver(Arc::new(AddressCheckingResolver {
                allowed: allowed.clone(),
            }));
        }
        let client = builder.build().map_err(|err| {
            ModelportError::new(ErrorCode::Transport, "cannot create the HTTP client")
                .with_cause(err)
        })?;
        clients.insert(key, client.clone());
        Ok(client)
    }

    /// Sends `request` and returns as soon as the response head arrives; the body is read with
    /// [`HttpStream::next_chunk`]. Checks the allow-list and the announced size.
    pub async fn open(
        &self,
        request: http::Request<Vec<u8>>,
        options: &HttpOptions,
    ) -> Result<HttpStream> {
        let target = request.uri().to_string();
        // What messages show of the URI: no user information, no secret query values.
        let uri = redacted_uri(&target);
        let request = host_from_uri(request)?;
        if let Some(list) = &options.allowed
            && !list.allows_uri(&target)
        {
            let origin = origin_of(&target).unwrap_or_else(|| uri.clone());
            return Err(ModelportError::new(
                ErrorCode::HostNotAllowed,
                format!(
                    "request to {origin} refused: not among the plugin's allowed destinations (base_url, allowed_hosts)"
                ),
            ));
        }
        let client = self.client(options)?;
        let mut request = reqwest::Request::try_from(request).map_err(|err| {
            ModelportError::new(
                ErrorCode::InvalidRequest,
                format!("the plugin built an invalid request for {uri}"),
            )
            .with_cause(err.without_url())
        })?;
        *request.timeout_mut() = options.request_timeout;
        let response = client
            .execute(request)
            .await
            .map_err(|err| transport_error(&uri, err))?;
        let max = options.max_response_bytes;
        if let Some(length) = response.content_length().filter(|&length| length > max) {
            return Err(too_large(&uri, max, Some(length)));
        }
        Ok(HttpStream {
            uri,
            response,
            read: 0,
            max,
        })
    }

    /// Sends `request` and reads the whole response, whatever its status.
    pub async fn execute(
        &self,
        request: http::Request<Vec<u8>>,
        options: &HttpOptions,
    ) -> Result<http::Response<Vec<u8>>> {
        self.open(request, options).await?.into_response().await
    }
}

/// A response whose body is still arriving.
pub struct HttpStream {
    uri: String,
    response: reqwest::Response,
    read: u64,
    max: u64,
}

impl HttpStream {
    /// The response status.
    pub fn status(&self) -> http::StatusCode {
        self.response.status()
    }

    /// The response headers.
    pub fn headers(&self) -> &http::HeaderMap {
        self.response.headers()
    }

    /// Reads the rest of the body into a whole response.
    pub async fn into_response(mut self) -> Result<http::Response<Vec<u8>>> {
        let mut builder = http::Response::builder()
            .status(self.response.status())
            .version(self.response.version());
        if let Some(headers) = builder.headers_mut() {
            *headers = std::mem::take(self.response.headers_mut());
        }
        let mut body = Vec::new();
        while let Some(chunk) = self.next_chunk().await? {
            body.extend_from_slice(&chunk);
        }
        builder.body(body).map_err(|err| {
            ModelportError::new(
                ErrorCode::Transport,
                format!("bad response from {}", self.uri),
            )
            .with_cause(err)
        })
    }

    /// The next piece of the body, `None` at its end; over `max_response_bytes` in total is an error.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>> {
        let Some(chunk) = self
            .response
            .chunk()
            .await
            .map_err(|err| transport_error(&self.uri, err))?
        else {
            return Ok(None);
        };
        self.read += chunk.len() as u64;
        if self.read > self.max {
            return Err(too_large(&self.uri, self.max, None));
        }
        Ok(Some(chunk.to_vec()))
    }
}

/// `request` with the `Host` header left to the engine, which sets it from the URI: a plugin's
/// own `Host` is dropped when it names the URI's authority and refused otherwise (one request,
/// one destination: no virtual-host confusion behind an allowed address).
fn host_from_uri(mut request: http::Request<Vec<u8>>) -> Result<http::Request<Vec<u8>>> {
    // The URI's host and port, without any user information.
    let authority = request.uri().authority().map(|a| {
        let text = a.as_str();
        text.rsplit_once('@')
            .map_or(text, |(_, host)| host)
            .to_ascii_lowercase()
    });
    let given: Vec<String> = request
        .headers()
        .get_all(http::header::HOST)
        .iter()
        .map(|value| String::from_utf8_lossy(value.as_bytes()).to_ascii_lowercase())
        .collect();
    let refused = given.len() > 1
        || given
            .first()
            .is_some_and(|host| Some(host) != authority.as_ref());
    if refused {
        return Err(ModelportError::new(
            ErrorCode::InvalidRequest,
            format!(
                "the plugin set a Host header ({}) that is not its request's address ({}): the host sets Host from the URI",
                given.join(", "),
                authority.unwrap_or_default()
            ),
        ));
    }
    request.headers_mut().remove(http::header::HOST);
    Ok(request)
}

/// A failed exchange with `uri` (already redacted): the error's own copy of the URL is dropped.
fn transport_error(uri: &str, err: reqwest::Error) -> ModelportError {
    let err = err.without_url();
    let mut source: Option<&dyn std::error::Error> = Some(&err);
    while let Some(cause) = source {
        if let Some(denied) = cause.downcast_ref::<RedirectDenied>() {
            return ModelportError::new(ErrorCode::HostNotAllowed, denied.to_string());
        }
        if let Some(denied) = cause.downcast_ref::<NonPublicAddress>() {
            return ModelportError::new(ErrorCode::HostNotAllowed, denied.to_string());
        }
        source = cause.source();
    }
    let code = if err.is_timeout() {
        ErrorCode::Timeout
    } else {
        ErrorCode::Transport
    };
    let what = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    let mut error = ModelportError::new(code, format!("HTTP request to {uri} {what}"));
    let mut source: Option<&dyn std::error::Error> = Some(&err);
    while let Some(cause) = source {
        error = error.with_cause(cause);
        source = cause.source();
    }
    error
}

fn too_large(uri: &str, max: u64, announced: Option<u64>) -> ModelportError {
    let size = announced
        .map(|n| format!(" ({n} bytes announced)"))
        .unwrap_or_default();
    ModelportError::new(
        ErrorCode::ResponseTooLarge,
        format!("response from {uri} exceeds max_response_bytes = {max}{size}"),
    )
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// A one-shot loopback server answering every connection with `response`, after `delay`.
    async fn serve(response: Vec<u8>, delay: Duration) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let response = response.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = socket.read(&mut buf).await;
                    tokio::time::sleep(delay).await;
                    let _ = socket.write_all(&response).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        format!("http://{addr}/v1/x")
    }

    fn get(uri: &str) -> http::Request<Vec<u8>> {
        http::Request::get(uri).body(Vec::new()).unwrap()
    }

    #[tokio::test]
    async fn reads_status_headers_and_body() {
        let uri = serve(
            b"HTTP/1.1 201 Created\r\nx-test: yes\r\ncontent-length: 5\r\n\r\nhello".to_vec(),
            Duration::ZERO,
        )
        .await;
        let response = HttpEngine::new()
            .execute(get(&uri), &HttpOptions::default())
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        assert_eq!(response.headers()["x-test"], "yes");
        assert_eq!(response.body(), b"hello");
    }

    #[tokio::test]
    async fn a_body_over_the_cap_is_an_error_not_truncated_data() {
        let body = vec![b'a'; 2048];
        let mut raw = b"HTTP/1.1 200 OK\r\ncontent-length: 2048\r\n\r\n".to_vec();
        raw.extend_from_slice(&body);
        let uri = serve(raw, Duration::ZERO).await;
        let options = HttpOptions {
            max_response_bytes: 1024,
            ..HttpOptions::default()
        };
        let err = HttpEngine::new()
            .execute(get(&uri), &options)
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::ResponseTooLarge);

        let mut chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n800\r\n".to_vec();
        chunked.extend_from_slice(&body);
        chunked.extend_from_slice(b"\r\n0\r\n\r\n");
        let uri = serve(chunked, Duration::ZERO).await;
        let err = HttpEngine::new()
            .execute(get(&uri), &options)
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::ResponseTooLarge);
    }

    #[tokio::test]
    async fn request_timeout_applies() {
        let uri = serve(
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".to_vec(),
            Duration::from_secs(60),
        )
        .await;
        let options = HttpOptions {
            request_timeout: Some(Duration::from_millis(100)),
            ..HttpOptions::default()
        };
        let started = std::time::Instant::now();
        let err = HttpEngine::new()
            .execute(get(&uri), &options)
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::Timeout);
        // The answer is a minute away; a wide bound holds on a loaded machine.
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(100) && took < Duration::from_secs(10),
            "{took:?}"
        );
    }

    #[tokio::test]
    async fn the_allow_list_is_checked_on_the_request_and_every_redirect() {
        let target = serve(
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".to_vec(),
            Duration::ZERO,
        )
        .await;
        let target_port = target
            .split(':')
            .nth(2)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_string();
        let to_localhost = format!(
            "HTTP/1.1 302 Found\r\nlocation: http://localhost:{target_port}/v1/x\r\ncontent-length: 0\r\n\r\n"
        );
        let redirecting = serve(to_localhost.into_bytes(), Duration::ZERO).await;
        let engine = HttpEngine::new();
        let only_ip = HttpOptions {
            allowed: Some(AllowList::new(["127.0.0.1"])),
            ..HttpOptions::default()
        };
        assert_eq!(
            engine.execute(get(&target), &only_ip).await.unwrap().body(),
            b"ok"
        );
        let err = engine
            .execute(get(&redirecting), &only_ip)
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::HostNotAllowed, "{err}");
        assert!(err.message.contains("localhost"), "{err}");
        let both = HttpOptions {
            allowed: Some(AllowList::new(["127.0.0.1", "localhost"])),
            ..HttpOptions::default()
        };
        assert_eq!(
            engine
                .execute(get(&redirecting), &both)
                .await
                .unwrap()
                .body(),
            b"ok"
        );
        let none = HttpOptions {
            allowed: Some(AllowList::default()),
            ..HttpOptions::default()
        };
        assert_eq!(
            engine.execute(get(&target), &none).await.unwrap_err().code,
            ErrorCode::HostNotAllowed
        );
    }

    #[tokio::test]
    async fn connection_refused_is_a_transport_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let err = HttpEngine::new()
            .execute(get(&format!("http://{addr}/")), &HttpOptions::default())
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::Transport);
        assert!(err.message.contains("could not connect"), "{err}");
    }
}
