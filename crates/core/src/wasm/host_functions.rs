//! The `extism:host/user` functions QueryMT plugins import: HTTP through the host engine (with
//! the plugin's allow-list), streamed HTTP, streamed chat chunks, and logging, in QueryMT's wire
//! format (`{"req":…}` in, `{"resp":…}` out). They never trap for HTTP problems: a denied host
//! answers 403, a cancelled call 499, a transport error 500; a stream that does not open answers
//! `{"status":"error"}` with the classified error as a QueryMT payload. A denial is also recorded,
//! so a call that then fails reports `HOST_NOT_ALLOWED`, whatever the plugin made of the 403.
//! A host function waits at most until the call's deadline (`timeout_ms` from the call's start):
//! then it fails the call with `PLUGIN_TIMEOUT`, as the guest's own code would be stopped.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use extism::{CurrentPlugin, Function, PTR, UserData, Val};
use modelport_plugin::StreamChunk;
use serde::Deserialize;
use serde_json::json;
use tokio::runtime::Handle;
use tokio_util::sync::CancellationToken;

use super::extism_http::{self, ExtismHttp};
use super::guest_error::stream_open_error;
use super::http_wire::{SerializableResponse, WireRequest, WireResponse, guest_json};
use super::user_functions::CallLimits;
use crate::error::{ErrorCode, ModelportError};
use crate::http::{HttpEngine, HttpOptions, HttpStream, classify_status};
use crate::stream::ChunkSender;

/// Namespace of QueryMT's host functions.
pub const NAMESPACE: &str = "extism:host/user";

/// Most HTTP streams one instance may hold open at a time (`qmt_http_stream_open`); one more
/// fails the call with `PLUGIN_LIMIT_EXCEEDED`. A call's streams are closed when it ends.
pub const MAX_OPEN_STREAMS: usize = 16;

/// What every instance of one provider shares: who it is, how it may reach the network, and how
/// long one call may take.
pub struct SharedHost {
    pub plugin: String,
    pub engine: HttpEngine,
    pub http: HttpOptions,
    pub runtime: Handle,
    pub shutdown: CancellationToken,
    /// The plugin's call timeout, which host functions' waits count against too.
    pub timeout: Option<Duration>,
    /// The largest input a call may hand the guest: its memory cap, in bytes.
    pub max_input_bytes: u64,
}

/// One instance's host state: the running call's cancel token and deadline, its open HTTP
/// streams, and where its `qmt_yield_chunk` chunks go.
pub struct InstanceHost {
    shared: Arc<SharedHost>,
    /// Cancelled when the running call is abandoned: host functions stop waiting at once.
    call_cancel: CancellationToken,
    /// When the running call's timeout ends.
    deadline: Option<tokio::time::Instant>,
    streams: HashMap<i64, HttpStream>,
    next_stream: i64,
    chunk_sink: Option<ChunkSender>,
    /// The first request of the running call the allow-list refused.
    denied: Option<ModelportError>,
}

impl InstanceHost {
    /// Starts a call that `cancel` can end, and that may last the plugin's timeout from now.
    pub fn begin_call(&mut self, cancel: CancellationToken) {
        self.call_cancel = cancel;
        self.denied = None;
        self.deadline = self
            .shared
            .timeout
            .map(|timeout| tokio::time::Instant::now() + timeout);
    }

    /// Where `qmt_yield_chunk` sends chunks (a v1 `chat_stream` call), or nowhere.
    pub fn set_chunk_sink(&mut self, sink: Option<ChunkSender>) {
        self.chunk_sink = sink;
    }

    /// The request the allow-list refused during the call that just ended, if one was.
    pub fn take_denial(&mut self) -> Option<ModelportError> {
        self.denied.take()
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
/// running call's cancel token and deadline.
struct CallContext {
    shared: Arc<SharedHost>,
    cancel: CancellationToken,
    deadline: Option<tokio::time::Instant>,
}

/// Why a host function stopped waiting.
enum Stopped {
    /// The call was abandoned or the registry shut down.
    Cancelled,
    /// The call's timeout ran out.
    Deadline,
}

impl CallContext {
    fn of(data: &UserData<InstanceHost>) -> Result<Self, extism::Error> {
        with_host(data, |host| Self {
            shared: host.shared.clone(),
            cancel: host.call_cancel.clone(),
            deadline: host.deadline,
        })
    }

    /// Runs `work` on the provider's runtime from this (blocking) call thread, until it ends,
    /// the call is abandoned (or the registry shuts down), or the call's deadline passes.
    fn until_stopped<T>(&self, work: impl std::future::Future<Output = T>) -> Result<T, Stopped> {
        let deadline = async {
            match self.deadline {
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                None => std::future::pending().await,
            }
        };
        self.shared.runtime.block_on(async {
            tokio::select! {
                biased;
                _ = self.shared.shutdown.cancelled() => Err(Stopped::Cancelled),
                _ = self.cancel.cancelled() => Err(Stopped::Cancelled),
                _ = deadline => Err(Stopped::Deadline),
                result = work => Ok(result),
            }
        })
    }

    /// The error that fails the call when `function` ran out of time waiting for the host.
    fn deadline_error(&self, function: &str) -> extism::Error {
        extism::Error::new(
            ModelportError::new(
                ErrorCode::PluginTimeout,
                format!("{function} ran past the plugin's timeout waiting for the host"),
            )
            .with_plugin(&self.shared.plugin),
        )
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

/// Keeps the first denial of the running call.
fn record_denial(data: &UserData<InstanceHost>, err: &ModelportError) -> Result<(), extism::Error> {
    with_host(data, |host| {
        host.denied.get_or_insert_with(|| err.clone());
    })
}

fn http_request(
    plugin: &mut CurrentPlugin,
    inputs: &[Val],
    outputs: &mut [Val],
    data: UserData<InstanceHost>,
) -> HostResult {
    let call = CallContext::of(&data)?;
    let shared = &call.shared;
    // A response the host read, kept while its wire form borrows its body.
    let fetched;
    let response = match read_request(plugin, &inputs[0])? {
        Err(err) => WireResponse::synthetic(500, &err.to_string()),
        Ok(request) => match call.until_stopped(shared.engine.execute(request, &shared.http)) {
            Err(Stopped::Cancelled) => WireResponse::synthetic(499, "cancelled"),
            Err(Stopped::Deadline) => return Err(call.deadline_error("qmt_http_request")),
            Ok(Ok(response)) => {
                fetched = response;
                SerializableResponse::from_http(&fetched)
            }
            Ok(Err(err)) if err.code == ErrorCode::HostNotAllowed => {
                record_denial(&data, &err)?;
                WireResponse::synthetic(403, &err.message)
            }
            Ok(Err(err)) => WireResponse::synthetic(500, &err.to_string()),
        },
    };
    let bytes = guest_json(&response, shared.max_input_bytes, "qmt_http_request")
        .map_err(|err| extism::Error::new(err.with_plugin(&shared.plugin)))?;
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
    let open = with_host(&data, |host| host.streams.len())?;
    if open >= MAX_OPEN_STREAMS {
        return Err(extism::Error::new(
            ModelportError::new(
                ErrorCode::PluginLimitExceeded,
                format!("qmt_http_stream_open: the plugin already holds {open} open HTTP streams, the most one instance may"),
            )
            .with_plugin(&shared.plugin),
        ));
    }
    let answer = match read_request(plugin, &inputs[0])? {
        Err(err) => stream_open_error(&err),
        Ok(request) => match call.until_stopped(shared.engine.open(request, &shared.http)) {
            Err(Stopped::Cancelled) => json!({"status": "cancelled"}),
            Err(Stopped::Deadline) => return Err(call.deadline_error("qmt_http_stream_open")),
            Ok(Err(err)) => {
                if err.code == ErrorCode::HostNotAllowed {
                    record_denial(&data, &err)?;
                }
                stream_open_error(&err)
            }
            Ok(Ok(stream)) if !stream.status().is_success() => {
                // QueryMT reads the failed answer and hands the guest its classification.
                match call.until_stopped(stream.into_response()) {
                    Err(Stopped::Cancelled) => json!({"status": "cancelled"}),
                    Err(Stopped::Deadline) => {
                        return Err(call.deadline_error("qmt_http_stream_open"));
                    }
                    Ok(Ok(response)) => stream_open_error(&classify_status(&response)),
                    Ok(Err(err)) => stream_open_error(&err),
                }
            }
            Ok(Ok(stream)) => {
                let id = with_host(&data, |host| {
                    host.next_stream += 1;
                    host.streams.insert(host.next_stream, stream);
                    host.next_stream
                })?;
                json!({"status": "ok", "stream_id": id})
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
    let next = match call.until_stopped(stream.next_chunk()) {
        Ok(next) => next,
        // Abandoned: end the call rather than hand the plugin a fake end of body.
        Err(Stopped::Cancelled) => return Err(extism::Error::msg("cancelled")),
        Err(Stopped::Deadline) => return Err(call.deadline_error("qmt_http_stream_next")),
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
    // QueryMT's `ExtismChatChunk`: `{"chunk": StreamChunk, "usage": …}`; `usage` repeats a
    // usage chunk's numbers, so the chunk alone is the event.
    #[derive(Deserialize)]
    struct YieldedChunk {
        chunk: StreamChunk,
    }
    let chunk = serde_json::from_slice::<YieldedChunk>(plugin.memory_get_val::<&[u8]>(&inputs[0])?)
        .map_err(|err| {
            extism::Error::msg(format!(
                "qmt_yield_chunk: not a chunk {{\"chunk\":…,\"usage\":…}}: {err}"
            ))
        })?
        .chunk;
    let call = CallContext::of(&data)?;
    let Some(sink) = with_host(&data, |host| host.chunk_sink.clone())? else {
        return Err(extism::Error::msg(
            "qmt_yield_chunk called outside chat_stream",
        ));
    };
    // Waits while the consumer is behind: a v1 stream cannot race ahead of its reader either.
    match call.until_stopped(sink.send(vec![chunk])) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => Err(extism::Error::msg(err.to_string())),
        Err(Stopped::Cancelled) => Err(extism::Error::msg("cancelled")),
        Err(Stopped::Deadline) => Err(call.deadline_error("qmt_yield_chunk")),
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

/// Tells a new instance how much to log (QueryMT's `init_logging(level)`, 0 = off … 5 = trace,
/// the host's `MODELPORT_LOG` level), if it exports `init_logging`. A guest sets its logger per
/// instance, so every instance is told. An instance whose `init_logging` fails (it trapped or ran
/// past the timeout) is not used, as QueryMT's host refuses such a plugin.
pub fn init_logging(plugin: &mut extism::Plugin) -> crate::Result<()> {
    if !plugin.function_exists("init_logging") {
        return Ok(());
    }
    let level = (log::max_level() as usize).to_string();
    plugin
        .call::<&[u8], &[u8]>("init_logging", level.as_bytes())
        .map(drop)
        .map_err(|err| super::call_error::call_error(err, "init_logging", false))
}

/// The host functions for one instance, and the state they share.
pub fn instance_functions(shared: Arc<SharedHost>) -> (Vec<Function>, UserData<InstanceHost>) {
    let data = UserData::new(InstanceHost {
        shared,
        call_cancel: CancellationToken::new(),
        deadline: None,
        streams: HashMap::new(),
        next_stream: 0,
        chunk_sink: None,
        denied: None,
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
    let mut functions = vec![
        function("qmt_http_request", &[PTR], http_request),
        function("qmt_http_stream_open", &[PTR], http_stream_open),
        function("qmt_http_stream_next", &[PTR], http_stream_next),
        function("qmt_http_stream_close", &[], http_stream_close),
        function("qmt_yield_chunk", &[], yield_chunk),
        function("qmt_log", &[], log_record),
    ];
    // Extism's standard `http_request` too, under the same allow-list and limits.
    let http = {
        let host = data.get().expect("fresh host state");
        let host = host.lock().unwrap_or_else(|p| p.into_inner());
        ExtismHttp {
            engine: host.shared.engine.clone(),
            options: host.shared.http.clone(),
            runtime: host.shared.runtime.clone(),
        }
    };
    let host = data.clone();
    let limits = move || match CallContext::of(&host) {
        Ok(call) => CallLimits::new(call.cancel, call.deadline.map(|d| d.into_std())),
        Err(_) => CallLimits::new(CancellationToken::new(), None),
    };
    functions.extend(extism_http::functions(Arc::new(http), Arc::new(limits)));
    (functions, data)
}
