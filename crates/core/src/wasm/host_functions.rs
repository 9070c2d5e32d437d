//! The `extism:host/user` functions QueryMT plugins import: HTTP through the host engine (with
//! the plugin's allow-list), streamed HTTP, streamed chat chunks, and logging. They never trap
//! for HTTP problems: a denied host answers 403, a cancelled call 499, a transport error 500.
use std::collections::HashMap;
use std::sync::Arc;

use extism::{CurrentPlugin, Function, PTR, UserData, Val};
use modelport_plugin::StreamChunk;
use serde::Deserialize;
use serde_json::json;
use tokio::runtime::Handle;
use tokio_util::sync::CancellationToken;

use super::http_wire::{WireRequest, WireResponse, wire_headers};
use crate::error::ErrorCode;
use crate::http::{HttpEngine, HttpOptions, HttpStream};
use crate::stream::ChunkSender;

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

/// One instance's host state: the running call's cancel token, its open HTTP streams, and where
/// its `qmt_yield_chunk` chunks go.
pub struct InstanceHost {
    shared: Arc<SharedHost>,
    /// Cancelled when the running call is abandoned: host functions stop waiting at once.
    call_cancel: CancellationToken,
    streams: HashMap<i64, HttpStream>,
    next_stream: i64,
    chunk_sink: Option<ChunkSender>,
}

impl InstanceHost {
    /// Starts a call that `cancel` can end.
    pub fn begin_call(&mut self, cancel: CancellationToken) {
        self.call_cancel = cancel;
    }

    /// Where `qmt_yield_chunk` sends chunks (a v1 `chat_stream` call), or nowhere.
    pub fn set_chunk_sink(&mut self, sink: Option<ChunkSender>) {
        self.chunk_sink = sink;
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

/// What a host function needs besides its arguments: the provider's shared state and the
/// running call's cancel token.
struct CallContext {
    shared: Arc<SharedHost>,
    cancel: CancellationToken,
}

impl CallContext {
    fn of(data: &UserData<InstanceHost>) -> Result<Self, extism::Error> {
        with_host(data, |host| Self {
            shared: host.shared.clone(),
            cancel: host.call_cancel.clone(),
        })
    }

    /// Runs `work` on the provider's runtime from this (blocking) call thread; `None` if the
    /// call is abandoned or the registry shuts down first.
    fn until_cancelled<T>(&self, work: impl std::future::Future<Output = T>) -> Option<T> {
        self.shared.runtime.block_on(async {
            tokio::select! {
                biased;
                _ = self.shared.shutdown.cancelled() => None,
                _ = self.cancel.cancelled() => None,
                result = work => Some(result),
            }
        })
    }
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
    let call = CallContext::of(&data)?;
    let shared = &call.shared;
    let response = match read_request(plugin, &inputs[0])? {
        Err(err) => WireResponse::synthetic(500, &err.to_string()),
        Ok(request) => match call.until_cancelled(shared.engine.execute(request, &shared.http)) {
            None => WireResponse::synthetic(499, "cancelled"),
            Some(Ok(response)) => WireResponse::from_http(&response),
            Some(Err(err)) if err.code == ErrorCode::HostNotAllowed => {
                WireResponse::synthetic(403, &err.message)
            }
            Some(Err(err)) => WireResponse::synthetic(500, &err.to_string()),
        },
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
    let call = CallContext::of(&data)?;
    let shared = &call.shared;
    let answer = match read_request(plugin, &inputs[0])? {
        Err(err) => json!({"status": "error", "message": err.to_string()}),
        Ok(request) => match call.until_cancelled(shared.engine.open(request, &shared.http)) {
            None => json!({"status": "cancelled"}),
            Some(Err(err)) => {
                json!({"status": "error", "code": err.code, "message": err.message})
            }
            Some(Ok(stream)) => {
                let status = stream.status().as_u16();
                let headers = wire_headers(stream.headers());
                let id = with_host(&data, |host| {
                    host.next_stream += 1;
                    host.streams.insert(host.next_stream, stream);
                    host.next_stream
                })?;
                // `http_status` and `headers` extend QueryMT's answer: a plugin needs them to
                // classify a failed stream (and to honour `retry-after`).
                json!({"status": "ok", "stream_id": id, "http_status": status, "headers": headers})
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
    let call = CallContext::of(&data)?;
    let Some(mut stream) = with_host(&data, |host| host.streams.remove(&id))? else {
        return output(plugin, outputs, b"");
    };
    let Some(next) = call.until_cancelled(stream.next_chunk()) else {
        // Abandoned: end the call rather than hand the plugin a fake end of body.
        return Err(extism::Error::msg("cancelled"));
    };
    match next {
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
    let chunk: StreamChunk = serde_json::from_slice(plugin.memory_get_val::<&[u8]>(&inputs[0])?)
        .map_err(|err| extism::Error::msg(format!("qmt_yield_chunk: not a stream chunk: {err}")))?;
    let call = CallContext::of(&data)?;
    let Some(sink) = with_host(&data, |host| host.chunk_sink.clone())? else {
        return Err(extism::Error::msg(
            "qmt_yield_chunk called outside chat_stream",
        ));
    };
    // Waits while the consumer is behind: a v1 stream cannot race ahead of its reader either.
    match call.until_cancelled(sink.send(vec![chunk])) {
        Some(Ok(())) => Ok(()),
        Some(Err(err)) => Err(extism::Error::msg(err.to_string())),
        None => Err(extism::Error::msg("cancelled")),
    }
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
    let name = CallContext::of(&data)?.shared.plugin.clone();
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
        call_cancel: CancellationToken::new(),
        streams: HashMap::new(),
        next_stream: 0,
        chunk_sink: None,
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
