//! The host side of the C ABI: a plugin's [`MpObject`] as a safe value. Each call lends the
//! plugin its inputs, collects what it writes (copied into host memory as it is written) and
//! turns the status into a host result; dropping the value releases the object.
use std::ffi::c_void;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::task::AtomicWaker;
use modelport_plugin::PluginError;
use modelport_plugin::abi::{
    MP_ERROR, MP_OK, MP_OP_POLL, MP_PANIC, MP_PART_BODY, MP_PART_EVENT, MP_PART_JSON, MP_PENDING,
    MP_UNSUPPORTED, MpBytes, MpInput, MpObject, MpOutput, MpWaker,
};
use modelport_plugin::panic_guard::PluginPanic;
use modelport_plugin::wire;
use modelport_plugin::{HttpRequest, StreamChunk};
use serde::de::DeserializeOwned;

use crate::error::{ErrorCode, ModelportError, Result};
use crate::stream::ChunkSender;

/// An object a native plugin handed out, released when dropped.
pub(crate) struct PluginObject {
    raw: MpObject,
    /// The plugin's config name, for errors.
    plugin: Arc<str>,
}

impl std::fmt::Debug for PluginObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginObject")
            .field("plugin", &self.plugin)
            .finish()
    }
}

/// What one call wrote. Stream events are read as they are written (no copy of their JSON).
#[derive(Default)]
pub(crate) struct Written {
    pub json: Vec<u8>,
    pub body: Vec<u8>,
    events: Vec<StreamChunk>,
    /// The first event that was not a `StreamChunk`.
    bad_event: Option<serde_json::Error>,
}

pub(crate) extern "C" fn collect(ctx: *mut c_void, part: u32, data: *const u8, len: usize) -> i32 {
    // SAFETY: `ctx` is the `Written` of the call in progress (see `PluginObject::call`); the
    // plugin passes `len` readable bytes.
    let written = unsafe { &mut *ctx.cast::<Written>() };
    let bytes = unsafe { MpBytes { ptr: data, len }.as_slice() };
    match part {
        MP_PART_JSON => written.json.extend_from_slice(bytes),
        MP_PART_BODY => written.body.extend_from_slice(bytes),
        MP_PART_EVENT if written.bad_event.is_none() => {
            match serde_json::from_slice::<StreamChunk>(bytes) {
                Ok(event) => written.events.push(event),
                Err(err) => {
                    written.bad_event = Some(err);
                    return 1;
                }
            }
        }
        _ => {}
    }
    0
}

/// How a call ended, before the host reads its output.
pub(crate) enum Status {
    Ok(Written, Option<PluginObject>),
    Pending(Written, Option<PluginObject>),
    Unsupported,
}

impl PluginObject {
    /// Takes ownership of `raw` (from a factory symbol or a call's `made`); `None` if it is
    /// empty (no `call` function).
    pub(crate) fn adopt(raw: MpObject, plugin: &Arc<str>) -> Option<Self> {
        raw.call.is_some().then(|| Self {
            raw,
            plugin: plugin.clone(),
        })
    }

    pub(crate) fn plugin(&self) -> &str {
        &self.plugin
    }

    /// Runs `op` (named `operation` in errors) with borrowed inputs.
    pub(crate) fn call(
        &self,
        operation: &str,
        op: u32,
        json: &[u8],
        body: &[u8],
        waker: Option<MpWaker>,
    ) -> Result<Status> {
        let mut written = Written::default();
        let input = MpInput {
            json: MpBytes::of(json),
            body: MpBytes::of(body),
            waker: waker.unwrap_or(MpWaker {
                ctx: std::ptr::null_mut(),
                wake: None,
            }),
        };
        let output = MpOutput {
            ctx: (&mut written as *mut Written).cast(),
            write: collect,
        };
        let mut made = MpObject::NONE;
        let call = self.raw.call.expect("adopted objects have a call function");
        let status = call(self.raw.self_, op, &input, &output, &mut made);
        let made = PluginObject::adopt(made, &self.plugin);
        match status {
            MP_OK => Ok(Status::Ok(written, made)),
            MP_PENDING => Ok(Status::Pending(written, made)),
            MP_UNSUPPORTED => Ok(Status::Unsupported),
            MP_ERROR => Err(self.error_of(operation, &written.json)),
            MP_PANIC => Err(self.panic_of(operation, &written.json)),
            other => Err(ModelportError::new(
                ErrorCode::PluginLoadFailed,
                format!("the plugin answered {operation} with an unknown status {other}"),
            )
            .with_plugin(&*self.plugin)),
        }
    }

    /// Runs a synchronous `op`: what it wrote; `UNSUPPORTED` if the object does not implement it,
    /// a protocol error if it answers pending.
    pub(crate) fn call_sync(
        &self,
        operation: &str,
        op: u32,
        json: &[u8],
        body: &[u8],
    ) -> Result<Written> {
        match self.call(operation, op, json, body, None)? {
            Status::Ok(written, _) => Ok(written),
            Status::Pending(..) => Err(self.protocol(operation, "answered pending")),
            Status::Unsupported => Err(self.unsupported(operation)),
        }
    }

    /// Runs a synchronous `op` and reads its JSON output as `T`.
    pub(crate) fn call_json<T: DeserializeOwned>(
        &self,
        operation: &str,
        op: u32,
        json: &[u8],
        body: &[u8],
    ) -> Result<T> {
        let written = self.call_sync(operation, op, json, body)?;
        self.read(operation, &written.json)
    }

    /// Runs a synchronous `op` that answers an HTTP request (head JSON and body).
    pub(crate) fn call_request(
        &self,
        operation: &str,
        op: u32,
        json: &[u8],
    ) -> Result<HttpRequest> {
        let written = self.call_sync(operation, op, json, &[])?;
        wire::request_from_parts(&written.json, written.body)
            .map_err(|err| ModelportError::from_plugin_error(&self.plugin, err))
    }

    /// Runs an `op` that makes an object.
    pub(crate) fn call_make(&self, operation: &str, op: u32, json: &[u8]) -> Result<PluginObject> {
        match self.call(operation, op, json, &[], None)? {
            Status::Ok(_, Some(made)) => Ok(made),
            Status::Ok(_, None) | Status::Pending(..) => {
                Err(self.protocol(operation, "made no object"))
            }
            Status::Unsupported => Err(self.unsupported(operation)),
        }
    }

    /// Reads JSON the plugin wrote.
    pub(crate) fn read<T: DeserializeOwned>(&self, operation: &str, json: &[u8]) -> Result<T> {
        serde_json::from_slice(json).map_err(|err| {
            ModelportError::new(
                ErrorCode::ParseError,
                format!("the plugin's output of {operation} is not what the ABI specifies"),
            )
            .with_plugin(&*self.plugin)
            .with_cause(err)
        })
    }

    /// Stream events the plugin wrote, in order.
    pub(crate) fn events(
        &self,
        operation: &str,
        written: &mut Written,
    ) -> Result<Vec<StreamChunk>> {
        match written.bad_event.take() {
            Some(err) => Err(ModelportError::new(
                ErrorCode::ParseError,
                format!("the plugin's output of {operation} is not what the ABI specifies"),
            )
            .with_plugin(&*self.plugin)
            .with_cause(err)),
            None => Ok(std::mem::take(&mut written.events)),
        }
    }

    fn error_of(&self, operation: &str, json: &[u8]) -> ModelportError {
        match serde_json::from_slice::<PluginError>(json) {
            Ok(err) => ModelportError::from_plugin_error(&self.plugin, err),
            Err(err) => self
                .protocol(operation, "failed with an error that is not a PluginError")
                .with_cause(err),
        }
    }

    fn panic_of(&self, operation: &str, json: &[u8]) -> ModelportError {
        let panic = serde_json::from_slice::<PluginPanic>(json).unwrap_or_else(|_| PluginPanic {
            message: String::from_utf8_lossy(json).into_owned(),
            location: None,
        });
        ModelportError::plugin_panicked(&self.plugin, operation, panic)
    }

    fn protocol(&self, operation: &str, what: &str) -> ModelportError {
        ModelportError::new(
            ErrorCode::ParseError,
            format!("the plugin broke the ABI: {operation} {what}"),
        )
        .with_plugin(&*self.plugin)
    }

    pub(crate) fn unsupported(&self, operation: &str) -> ModelportError {
        ModelportError::new(
            ErrorCode::Unsupported,
            format!("this plugin does not support {operation}"),
        )
        .with_plugin(&*self.plugin)
    }

    /// Starts an asynchronous `op`: its events go to `sender` as they come; resolves to the
    /// JSON result, or `None` if the object does not implement `op`. Dropping the future
    /// releases (cancels) the plugin's task.
    pub(crate) async fn call_async(
        &self,
        operation: &str,
        op: u32,
        json: &[u8],
        sender: Option<&ChunkSender>,
    ) -> Result<Option<Vec<u8>>> {
        let on_events = async |events: Vec<StreamChunk>| match sender {
            Some(sender) if !events.is_empty() => sender.send(events).await,
            _ => Ok(()),
        };
        let wake = Arc::new(HostWake::default());
        let first = self.call(operation, op, json, &[], Some(wake.as_waker()))?;
        let (mut events, task) = match first {
            Status::Ok(mut written, _) => {
                on_events(self.events(operation, &mut written)?).await?;
                return Ok(Some(written.json));
            }
            Status::Unsupported => return Ok(None),
            Status::Pending(mut written, Some(task)) => {
                (self.events(operation, &mut written)?, task)
            }
            Status::Pending(_, None) => return Err(self.protocol(operation, "gave no task")),
        };
        let mut task = Task { object: task, wake };
        loop {
            if !events.is_empty() {
                on_events(std::mem::take(&mut events)).await?;
            }
            match task.poll_once(operation).await? {
                Step::Pending(mut written) => events = self.events(operation, &mut written)?,
                Step::Done(mut written) => {
                    on_events(self.events(operation, &mut written)?).await?;
                    return Ok(Some(written.json));
                }
            }
        }
    }
}

impl Drop for PluginObject {
    fn drop(&mut self) {
        if let Some(release) = self.raw.release {
            release(self.raw.self_);
        }
    }
}

/// The host's waker for one plugin task: the plugin calls it (from any thread) and the host's
/// executor polls the task again.
#[derive(Default)]
struct HostWake {
    waker: AtomicWaker,
}

extern "C" fn host_wake(ctx: *mut c_void) {
    // SAFETY: `ctx` is the `HostWake` of a task the host has not released (the ABI forbids
    // waking after release, and the host drops its `HostWake` only after releasing).
    let wake = unsafe { &*ctx.cast::<HostWake>() };
    wake.waker.wake();
}

impl HostWake {
    fn as_waker(self: &Arc<Self>) -> MpWaker {
        MpWaker {
            ctx: Arc::as_ptr(self).cast_mut().cast(),
            wake: Some(host_wake),
        }
    }
}

/// A pending plugin task. Field order: the task is released before its waker is dropped.
struct Task {
    object: PluginObject,
    wake: Arc<HostWake>,
}

enum Step {
    Pending(Written),
    Done(Written),
}

impl Task {
    /// Waits for the plugin's wake-up, then polls once.
    async fn poll_once(&mut self, operation: &str) -> Result<Step> {
        PollOnce {
            task: self,
            operation,
        }
        .await
    }
}

struct PollOnce<'a> {
    task: &'a mut Task,
    operation: &'a str,
}

impl Future for PollOnce<'_> {
    type Output = Result<Step>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        // Registered before the plugin runs, so a wake-up during or after its poll is not lost.
        this.task.wake.waker.register(cx.waker());
        let waker = this.task.wake.as_waker();
        let object = &this.task.object;
        match object.call(this.operation, MP_OP_POLL, &[], &[], Some(waker)) {
            Ok(Status::Ok(written, _)) => Poll::Ready(Ok(Step::Done(written))),
            Ok(Status::Pending(written, _))
                if written.events.is_empty() && written.bad_event.is_none() =>
            {
                Poll::Pending
            }
            Ok(Status::Pending(written, _)) => Poll::Ready(Ok(Step::Pending(written))),
            Ok(Status::Unsupported) => {
                Poll::Ready(Err(object.protocol(this.operation, "task cannot be polled")))
            }
            Err(err) => Poll::Ready(Err(err)),
        }
    }
}
