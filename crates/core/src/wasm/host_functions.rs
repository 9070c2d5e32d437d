//! The `extism:host/user` functions QueryMT plugins import: HTTP through the host engine (with
//! the plugin's allow-list), streamed HTTP, streamed chat chunks, and logging. They never trap
//! for HTTP problems: a denied host answers 403, a cancelled call 499, a transport error 500.
use std::collections::HashMap;
use std::sync::Arc;

use extism::{CurrentPlugin, Function, PTR, UserData, Val};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::runtime::Handle;
use tokio_util::sync::CancellationToken;

use super::http_wire::{WireRequest, WireResponse};
use crate::error::ErrorCode;
use crate::http::{HttpEngine, HttpOptions, HttpStream};

/// Namespace of QueryMT's host functions.
pub const NAMESPACE: &str = "extism:host/user";

/// What every instance of one provider shares: who it is and how it may reach the network.
pub struct SharedHost {
    pub plugin: String,
    pub engine: HttpEngine,
    pub http: HttpOptions,
    pub runtime: Handle,
    pub shutdown: CancellationToken,
}

/// One instance's host state: its open HTTP streams and the chunks it yielded in this call.
pub struct InstanceHost {
    shared: Arc<SharedHost>,
    streams: HashMap<i64, HttpStream>,
    next_stream: i64,
    chunks: Vec<Value>,
}

impl InstanceHost {
    /// Takes the chunks `qmt_yield_chunk` collected since the last take.
    pub fn take_chunks(&mut self) -> Vec<Value> {
        std::mem::take(&mut self.chunks)
    }

    /// Closes every stream left open (a call ended without closing them).
    pub fn close_streams(&mut self) {
        self.streams.clear();
    }
}

type HostResult = Result<(), extism::Error>;

/// Runs `f` on the instance's host state.
fn with_host<R>(
    data: &UserData<InstanceHost>,
    f: impl FnOnce(&mut InstanceHost) -> R,
) -> Result<R, extism::Error> {
    let host = data.get()?;
    let mut guard = host
        .lock()
        .map_err(|_| extism::Error::msg("host state poisoned"))?;
    Ok(f(&mut guard))
}

fn shared_of(data: &UserData<InstanceHost>) -> Result<Arc<SharedHost>, extism::Error> {
    with_host(data, |host| host.shared.clone())
}

/// Runs `work` on the provider's runtime from this (blocking) call thread; `None` if the
/// registry shuts down first.
fn until_shutdown<T>(shared: &SharedHost, work: impl std::future::Future<Output = T>) -> Option<T> {
    shared.runtime.block_on(async {
        tokio::select! {
            biased;
            _ = shared.shutdown.cancelled() => None,
            result = work => Some(result),
        }
    })
}

/// The wire request a plugin passed in `input`.
fn read_request(
    plugin: &mut CurrentPlugin,
    input: &Val,
) -> Result<crate::Result<http::Request<Vec<u8>>>, extism::Error> {
    let bytes = plugin.memory_get_val::<&[u8]>(input)?;
    Ok(WireRequest::from_json(bytes).and_then(WireRequest::into_http))
}

fn output(plugin: &mut CurrentPlugin, outputs: &mut [Val], bytes: &[u8]) -> HostResult {
    let handle = plugin.memory_new(bytes)?;
    outputs[0] = plugin.memory_to_val(handle);
    Ok(())
}

fn http_request(
    plugin: &mut CurrentPlugin,
    inputs: &[Val],
    outputs: &mut [Val],
    data: UserData<InstanceHost>,
) -> HostResult {
    let shared = shared_of(&data)?;
    let response = match read_request(plugin, &inputs[0])? {
        Err(err) => WireResponse::synthetic(500, &err.to_string()),
        Ok(request) => {
            match until_shutdown(&shared, shared.engine.execute(request, &shared.http)) {
                None => WireResponse::synthetic(499, "cancelled"),
                Some(Ok(response)) => WireResponse::from_http(&response),
                Some(Err(err)) if err.code == ErrorCode::HostNotAllowed => {
                    WireResponse::synthetic(403, &err.message)
                }
                Some(Err(err)) => WireResponse::synthetic(500, &err.to_string()),
            }
        }
    };
    let bytes = serde_json::to_vec(&response)?;
    output(plugin, outputs, &bytes)
}

fn http_stream_open(
    plugin: &mut CurrentPlugin,
    inputs: &[Val],
    outputs: &mut [Val],
    data: UserData<InstanceHost>,
) -> HostResult {
    let shared = shared_of(&data)?;
    let answer = match read_request(plugin, &inputs[0])? {
        Err(err) => json!({"status": "error", "message": err.to_string()}),
        Ok(request) => match until_shutdown(&shared, shared.engine.open(request, &shared.http)) {
            None => json!({"status": "cancelled"}),
            Some(Err(err)) => {
                json!({"status": "error", "code": err.code, "message": err.message})
            }
            Some(Ok(stream)) => {
                let status = stream.status().as_u16();
                let id = with_host(&data, |host| {
                    host.next_stream += 1;
                    host.streams.insert(host.next_stream, stream);
                    host.next_stream
                })?;
                json!({"status": "ok", "stream_id": id, "http_status": status})
            }
        },
    };
    output(plugin, outputs, &serde_json::to_vec(&answer)?)
}

fn stream_id(plugin: &mut CurrentPlugin, input: &Val) -> Result<i64, extism::Error> {
    let text: String = plugin.memory_get_val::<&str>(input)?.trim().to_string();
    text.parse::<i64>()
        .map_err(|_| extism::Error::msg(format!("bad stream id {text:?}")))
}

fn http_stream_next(
    plugin: &mut CurrentPlugin,
    inputs: &[Val],
    outputs: &mut [Val],
    data: UserData<InstanceHost>,
) -> HostResult {
    let id = stream_id(plugin, &inputs[0])?;
    let (shared, stream) = with_host(&data, |host| {
        (host.shared.clone(), host.streams.remove(&id))
    })?;
    let Some(mut stream) = stream else {
        return output(plugin, outputs, b"");
    };
    match until_shutdown(&shared, stream.next_chunk()).unwrap_or(Ok(None)) {
        Ok(Some(bytes)) => {
            with_host(&data, |host| host.streams.insert(id, stream))?;
            output(plugin, outputs, &bytes)
        }
        Ok(None) => output(plugin, outputs, b""),
        // A broken body must not look like a clean end: fail the call.
        Err(err) => Err(extism::Error::msg(err.to_string())),
    }
}

fn http_stream_close(
    plugin: &mut CurrentPlugin,
    inputs: &[Val],
    _outputs: &mut [Val],
    data: UserData<InstanceHost>,
) -> HostResult {
    let id = stream_id(plugin, &inputs[0])?;
    with_host(&data, |host| host.streams.remove(&id))?;
    Ok(())
}

fn yield_chunk(
    plugin: &mut CurrentPlugin,
    inputs: &[Val],
    _outputs: &mut [Val],
    data: UserData<InstanceHost>,
) -> HostResult {
    let chunk: Value = serde_json::from_slice(plugin.memory_get_val::<&[u8]>(&inputs[0])?)?;
    with_host(&data, |host| host.chunks.push(chunk))
}

#[derive(Deserialize)]
struct LogRecord {
    level: usize,
    #[serde(default)]
    target: String,
    message: String,
}

fn log_record(
    plugin: &mut CurrentPlugin,
    inputs: &[Val],
    _outputs: &mut [Val],
    data: UserData<InstanceHost>,
) -> HostResult {
    let record: LogRecord = serde_json::from_slice(plugin.memory_get_val::<&[u8]>(&inputs[0])?)?;
    let name = shared_of(&data)?.plugin.clone();
    let level = match record.level {
        1 => log::Level::Error,
        2 => log::Level::Warn,
        3 => log::Level::Info,
        4 => log::Level::Debug,
        _ => log::Level::Trace,
    };
    log::log!(target: "modelport::plugin", level, "[{name}] [{}] {}", record.target, record.message);
    Ok(())
}

/// The host functions for one instance, and the state they share.
pub fn instance_functions(shared: Arc<SharedHost>) -> (Vec<Function>, UserData<InstanceHost>) {
    let data = UserData::new(InstanceHost {
        shared,
        streams: HashMap::new(),
        next_stream: 0,
        chunks: Vec::new(),
    });
    let function = |name: &str,
                    results: &[extism::ValType],
                    f: fn(
        &mut CurrentPlugin,
        &[Val],
        &mut [Val],
        UserData<InstanceHost>,
    ) -> HostResult| {
        Function::new(name, [PTR], results.to_vec(), data.clone(), f).with_namespace(NAMESPACE)
    };
    let functions = vec![
        function("qmt_http_request", &[PTR], http_request),
        function("qmt_http_stream_open", &[PTR], http_stream_open),
        function("qmt_http_stream_next", &[PTR], http_stream_next),
        function("qmt_http_stream_close", &[], http_stream_close),
        function("qmt_yield_chunk", &[], yield_chunk),
        function("qmt_log", &[], log_record),
    ];
    (functions, data)
}
