//! Extism's standard HTTP host functions (`extism:host/env`: `http_request`, `http_status_code`,
//! `http_headers`), the ones every PDK's `http::request` calls, served by modelport's HTTP engine
//! instead of Extism's own (compiled out): the allow-list is checked on the request and on every
//! redirect hop, the response is capped, and the wait is bounded by the call's timeout and
//! cancellation. A refused destination fails the call with `HOST_NOT_ALLOWED` before anything is
//! sent; so does any other failure (the PDKs' `http::request` has no error channel but a trap).
//!
//! They shadow Extism's built-in functions of the same names (Extism links user functions after
//! its own, with shadowing allowed).
use std::collections::BTreeMap;
use std::sync::Arc;

use extism::{CurrentPlugin, Function, PTR, UserData, Val, ValType};
use serde::Deserialize;
use tokio::runtime::Handle;

use super::user_functions::{CallLimits, WaitEnd};
use crate::error::{ErrorCode, ModelportError};
use crate::http::{HttpEngine, HttpOptions};

/// Namespace of Extism's own host functions.
const EXTISM_ENV: &str = "extism:host/env";

/// How a plugin's HTTP requests are served: the engine, its settings (allow-list, size cap,
/// timeouts), and the runtime the engine runs on.
pub struct ExtismHttp {
    pub engine: HttpEngine,
    pub options: HttpOptions,
    pub runtime: Handle,
}

/// The last response of one instance, which `http_status_code` and `http_headers` tell.
struct LastResponse {
    http: Arc<ExtismHttp>,
    limits: Arc<dyn Fn() -> CallLimits + Send + Sync>,
    status: u16,
    headers: Option<BTreeMap<String, String>>,
}

/// The request a PDK passes `http_request` (Extism's `HttpRequest`).
#[derive(Deserialize)]
struct PdkRequest {
    url: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    method: Option<String>,
}

type HostResult = Result<(), extism::Error>;

fn fail(error: ModelportError) -> extism::Error {
    extism::Error::new(error)
}

fn state<R>(
    data: &UserData<LastResponse>,
    f: impl FnOnce(&mut LastResponse) -> R,
) -> Result<R, extism::Error> {
    let state = data.get()?;
    let mut guard = state
        .lock()
        .map_err(|_| extism::Error::msg("HTTP state poisoned"))?;
    Ok(f(&mut guard))
}

/// Reads (and frees, as Extism's own function does) the block at `offset`.
fn take_block(plugin: &mut CurrentPlugin, offset: u64) -> Result<Option<Vec<u8>>, extism::Error> {
    let Some(handle) = plugin.memory_handle(offset) else {
        return Ok(None);
    };
    let bytes = plugin.memory_bytes(handle)?.to_vec();
    plugin.memory_free(handle)?;
    Ok(Some(bytes))
}

fn build_request(
    request: PdkRequest,
    body: Vec<u8>,
) -> Result<http::Request<Vec<u8>>, ModelportError> {
    let invalid = |err: &dyn std::fmt::Display| {
        ModelportError::new(
            ErrorCode::InvalidRequest,
            "http_request: the plugin built an invalid request",
        )
        .with_cause(err.to_string())
    };
    let method = request
        .method
        .as_deref()
        .unwrap_or("GET")
        .to_ascii_uppercase();
    let mut builder = http::Request::builder()
        .method(method.as_str())
        .uri(&request.url);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    builder.body(body).map_err(|err| invalid(&err))
}

fn http_request(
    plugin: &mut CurrentPlugin,
    inputs: &[Val],
    outputs: &mut [Val],
    data: UserData<LastResponse>,
) -> HostResult {
    let (http, limits) = state(&data, |last| {
        last.status = 0;
        last.headers = None;
        (last.http.clone(), (last.limits)())
    })?;
    let offset = inputs[0].unwrap_i64() as u64;
    let Some(request) = take_block(plugin, offset)? else {
        return Err(fail(ModelportError::new(
            ErrorCode::InvalidRequest,
            format!("http_request: no request at offset {offset}"),
        )));
    };
    let request: PdkRequest = serde_json::from_slice(&request).map_err(|err| {
        fail(
            ModelportError::new(
                ErrorCode::InvalidRequest,
                "http_request: the request is not Extism's JSON form",
            )
            .with_cause(err),
        )
    })?;
    let body = take_block(plugin, inputs[1].unwrap_i64() as u64)?.unwrap_or_default();
    let request = build_request(request, body).map_err(fail)?;
    let response = limits
        .block_on(&http.runtime, http.engine.execute(request, &http.options))
        .map_err(|end| {
            fail(match end {
                WaitEnd::Cancelled => {
                    ModelportError::aborted("the call was cancelled during http_request")
                }
                WaitEnd::TimedOut => ModelportError::new(
                    ErrorCode::PluginTimeout,
                    "the plugin's timeout passed during http_request",
                ),
            })
        })?
        .map_err(fail)?;
    let headers = response
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_string())))
        .collect();
    state(&data, |last| {
        last.status = response.status().as_u16();
        last.headers = Some(headers);
    })?;
    let handle = plugin.memory_new(response.body().as_slice())?;
    outputs[0] = Val::I64(handle.offset() as i64);
    Ok(())
}

fn http_status_code(
    _: &mut CurrentPlugin,
    _: &[Val],
    outputs: &mut [Val],
    data: UserData<LastResponse>,
) -> HostResult {
    outputs[0] = Val::I32(i32::from(state(&data, |last| last.status)?));
    Ok(())
}

fn http_headers(
    plugin: &mut CurrentPlugin,
    _: &[Val],
    outputs: &mut [Val],
    data: UserData<LastResponse>,
) -> HostResult {
    let headers = state(&data, |last| last.headers.clone())?;
    outputs[0] = match headers {
        Some(headers) => {
            let json = serde_json::to_vec(&headers)?;
            Val::I64(plugin.memory_new(json.as_slice())?.offset() as i64)
        }
        None => Val::I64(0),
    };
    Ok(())
}

/// The three functions for one instance; `limits` tells the running call's bounds.
pub fn functions(
    http: Arc<ExtismHttp>,
    limits: Arc<dyn Fn() -> CallLimits + Send + Sync>,
) -> Vec<Function> {
    let data = UserData::new(LastResponse {
        http,
        limits,
        status: 0,
        headers: None,
    });
    type Serve = fn(&mut CurrentPlugin, &[Val], &mut [Val], UserData<LastResponse>) -> HostResult;
    let function = |name: &str, params: &[ValType], results: &[ValType], f: Serve| {
        Function::new(name, params.to_vec(), results.to_vec(), data.clone(), f)
            .with_namespace(EXTISM_ENV)
    };
    vec![
        function("http_request", &[PTR, PTR], &[PTR], http_request),
        function("http_status_code", &[], &[ValType::I32], http_status_code),
        function("http_headers", &[], &[PTR], http_headers),
    ]
}
