//! The plugin side of the C ABI (see [`crate::abi`]): the factory entry points the export macros
//! expand to, and the objects behind them, which call the author's traits. Every entry point
//! catches panics with the plugin's own std and reports them as `MP_PANIC`; every output is
//! copied by the host as it is written, so nothing allocated here is freed by the host.
use std::ffi::c_void;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use futures::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::abi::{
    MP_ERROR, MP_OK, MP_OP_CHAT, MP_OP_CHAT_REQUEST, MP_OP_CHAT_STREAM, MP_OP_CLASSIFY_ERROR,
    MP_OP_COMPLETE, MP_OP_COMPLETE_REQUEST, MP_OP_EMBED, MP_OP_EMBED_REQUEST, MP_OP_EMBED_TEXTS,
    MP_OP_EMBEDDER_DIMS, MP_OP_FINISH, MP_OP_FROM_CONFIG, MP_OP_HEALTH_CHECK, MP_OP_INFO,
    MP_OP_INIT, MP_OP_LIST_MODELS, MP_OP_LIST_MODELS_REQUEST, MP_OP_LIST_MODELS_STATIC,
    MP_OP_MANIFEST, MP_OP_PARSE_CHAT, MP_OP_PARSE_COMPLETE, MP_OP_PARSE_EMBED, MP_OP_PARSE_LINES,
    MP_OP_PARSE_LIST_MODELS, MP_OP_PARSE_SPEECH, MP_OP_PARSE_TRANSCRIBE, MP_OP_POLL,
    MP_OP_SHUTDOWN, MP_OP_SPEECH, MP_OP_SPEECH_REQUEST, MP_OP_STREAM_PARSER,
    MP_OP_SUPPORTS_STREAMING, MP_OP_TOOL_EXECUTE, MP_OP_TOOL_IS_ALLOWED, MP_OP_TRANSCRIBE,
    MP_OP_TRANSCRIBE_REQUEST, MP_OP_VECTOR_DELETE, MP_OP_VECTOR_INFO, MP_OP_VECTOR_QUERY,
    MP_OP_VECTOR_UPSERT, MP_OP_VECTOR_WIPE, MP_PANIC, MP_PART_BODY, MP_PART_EVENT, MP_PART_JSON,
    MP_PENDING, MP_UNSUPPORTED, MpInput, MpObject, MpOutput, MpWaker,
};
use crate::audio::{SttRequest, TtsRequest};
use crate::call_params::ChatCall;
use crate::error::PluginError;
use crate::http_provider::{
    ChatStreamParser, HTTPLLMProvider, HTTPLLMProviderFactory, HttpRequest, HttpResponse,
};
use crate::panic_guard::{guard, guarded_drop, install_panic_hook};
use crate::provider::{LLMProvider, LLMProviderFactory};
use crate::response::CompletionRequest;
use crate::sdk_plugin::wire::{
    DeleteInput, EmbedTextsInput, ExecuteInput, IsAllowedInput, QueryInput, RepoInput, UpsertInput,
};
use crate::sdk_plugin::{
    Embedder, PluginLifecycle, SdkPlugin, SdkPluginFactory, ToolExecutor, VectorBackend,
};
use crate::stream::{StreamChunk, StreamSender};
use crate::wire::{self, ChatInput, EmbedInput, FactoryInfo};

/// What a call reads, borrowed from the host.
struct Input<'a> {
    json: &'a [u8],
    body: &'a [u8],
    waker: MpWaker,
}

impl Input<'_> {
    fn parse<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        serde_json::from_slice(self.json)
            .map_err(|err| PluginError::invalid_request(format!("the call's input: {err}")))
    }

    fn text(&self) -> Result<&str, PluginError> {
        std::str::from_utf8(self.json)
            .map_err(|_| PluginError::invalid_request("the call's input is not UTF-8"))
    }

    fn response(&self) -> Result<HttpResponse, PluginError> {
        wire::response_from_parts(self.json, self.body.to_vec())
    }
}

/// Where a call writes, through the host's callback.
struct Output<'a> {
    raw: &'a MpOutput,
}

impl Output<'_> {
    /// `false` when the host wants no more.
    fn write(&mut self, part: u32, bytes: &[u8]) -> bool {
        (self.raw.write)(self.raw.ctx, part, bytes.as_ptr(), bytes.len()) == 0
    }

    fn json<T: Serialize + ?Sized>(&mut self, value: &T) -> Outcome {
        match serde_json::to_vec(value) {
            Ok(bytes) => {
                self.write(MP_PART_JSON, &bytes);
                Outcome::Done
            }
            Err(err) => Outcome::Failed(err.into()),
        }
    }

    fn request(&mut self, request: HttpRequest) -> Outcome {
        let (head, body) = wire::request_parts(request);
        self.write(MP_PART_JSON, &head);
        self.write(MP_PART_BODY, &body);
        Outcome::Done
    }

    fn events(&mut self, events: &[StreamChunk]) -> bool {
        let mut buffer = Vec::with_capacity(128);
        events.iter().all(|event| {
            buffer.clear();
            match serde_json::to_writer(&mut buffer, event) {
                Ok(()) => self.write(MP_PART_EVENT, &buffer),
                Err(_) => true,
            }
        })
    }
}

/// How a call ended.
enum Outcome {
    /// `MP_OK`, output written.
    Done,
    /// `MP_OK` with a new object.
    Made(Box<dyn Object>),
    /// `MP_PENDING` with a task to poll.
    Pending(Box<dyn Object>),
    /// `MP_PENDING` from a poll: the same task is still running.
    Waiting,
    /// `MP_UNSUPPORTED`.
    Unsupported,
    /// `MP_ERROR`.
    Failed(PluginError),
}

/// `?` for results inside a call: an error ends the call as `MP_ERROR`.
macro_rules! attempt {
    ($result:expr) => {
        match $result {
            Ok(value) => value,
            Err(err) => return Outcome::Failed(err.into()),
        }
    };
}

/// An object handed to the host.
trait Object: Send + Sync + 'static {
    fn call(&self, op: u32, input: &Input<'_>, out: &mut Output<'_>) -> Outcome;
}

fn into_raw(object: Box<dyn Object>) -> MpObject {
    MpObject {
        self_: Box::into_raw(Box::new(object)).cast(),
        call: Some(object_call),
        release: Some(object_release),
    }
}

/// Writes `outcome` to the host's slots and returns its status.
fn finish(outcome: Outcome, out: &mut Output<'_>, made: *mut MpObject) -> i32 {
    let place = |object: Box<dyn Object>| {
        if made.is_null() {
            drop(object);
        } else {
            // SAFETY: the host passes a writable slot for created objects.
            unsafe { *made = into_raw(object) };
        }
    };
    match outcome {
        Outcome::Done => MP_OK,
        Outcome::Made(object) => {
            place(object);
            MP_OK
        }
        Outcome::Pending(object) => {
            place(object);
            MP_PENDING
        }
        Outcome::Waiting => MP_PENDING,
        Outcome::Unsupported => MP_UNSUPPORTED,
        Outcome::Failed(err) => {
            let bytes = serde_json::to_vec(&err).unwrap_or_default();
            out.write(MP_PART_JSON, &bytes);
            MP_ERROR
        }
    }
}

extern "C" fn object_call(
    self_: *mut c_void,
    op: u32,
    input: *const MpInput,
    output: *const MpOutput,
    made: *mut MpObject,
) -> i32 {
    // SAFETY: `self_` is the `Box<Box<dyn Object>>` `into_raw` made, alive until `release`;
    // `input` and `output` are valid for this call (the ABI's contract).
    let (object, input, output) =
        unsafe { (&*(self_ as *const Box<dyn Object>), &*input, &*output) };
    let input = Input {
        // SAFETY: the host's borrowed bytes, valid during this call.
        json: unsafe { input.json.as_slice() },
        body: unsafe { input.body.as_slice() },
        waker: input.waker,
    };
    let mut out = Output { raw: output };
    match guard(|| object.call(op, &input, &mut out)) {
        Ok(outcome) => match guard(|| finish(outcome, &mut out, made)) {
            Ok(status) => status,
            Err(panic) => panicked(&mut out, &panic),
        },
        Err(panic) => panicked(&mut out, &panic),
    }
}

fn panicked(out: &mut Output<'_>, panic: &crate::panic_guard::PluginPanic) -> i32 {
    let bytes = serde_json::to_vec(panic).unwrap_or_default();
    out.write(MP_PART_JSON, &bytes);
    MP_PANIC
}

extern "C" fn object_release(self_: *mut c_void) {
    if !self_.is_null() {
        // SAFETY: as in `object_call`; the host releases each object once.
        guarded_drop(unsafe { Box::from_raw(self_ as *mut Box<dyn Object>) });
    }
}

/// Body of a factory symbol: builds the factory object with panics contained.
fn factory_entry_with(
    output: *const MpOutput,
    factory: *mut MpObject,
    make: impl FnOnce() -> Box<dyn Object>,
) -> i32 {
    install_panic_hook();
    if output.is_null() || factory.is_null() {
        return MP_ERROR;
    }
    // SAFETY: non-null, valid for this call (the ABI's contract).
    let mut out = Output {
        raw: unsafe { &*output },
    };
    match guard(make) {
        Ok(object) => finish(Outcome::Made(object), &mut out, factory),
        Err(panic) => panicked(&mut out, &panic),
    }
}

/// Body of `plugin_http_factory`.
pub fn http_factory_entry<F: HTTPLLMProviderFactory + 'static>(
    output: *const MpOutput,
    factory: *mut MpObject,
    make: impl FnOnce() -> F,
) -> i32 {
    factory_entry_with(output, factory, || {
        Box::new(HttpFactoryObject(Box::new(make()))) as Box<dyn Object>
    })
}

/// Body of `plugin_factory`.
pub fn factory_entry<F: LLMProviderFactory + 'static>(
    output: *const MpOutput,
    factory: *mut MpObject,
    make: impl FnOnce() -> F,
) -> i32 {
    factory_entry_with(output, factory, || {
        Box::new(FactoryObject(Arc::new(make()))) as Box<dyn Object>
    })
}

fn info(
    name: String,
    api_key_name: Option<String>,
    schema: &str,
    supports_custom_models: bool,
) -> Result<FactoryInfo, PluginError> {
    let config_schema = serde_json::from_str(schema).map_err(|err| {
        PluginError::invalid_request(format!("the plugin's config schema is not JSON: {err}"))
    })?;
    Ok(FactoryInfo {
        name,
        api_key_name,
        config_schema,
        supports_custom_models,
    })
}

struct HttpFactoryObject(Box<dyn HTTPLLMProviderFactory>);

impl Object for HttpFactoryObject {
    fn call(&self, op: u32, input: &Input<'_>, out: &mut Output<'_>) -> Outcome {
        let factory = &self.0;
        match op {
            MP_OP_INFO => out.json(&attempt!(info(
                factory.name(),
                factory.api_key_name(),
                &factory.config_schema(),
                factory.supports_custom_models(),
            ))),
            MP_OP_FROM_CONFIG => {
                let provider = attempt!(factory.from_config(attempt!(input.text())));
                Outcome::Made(Box::new(HttpProviderObject(provider)))
            }
            MP_OP_LIST_MODELS_STATIC => {
                out.json(&factory.list_models_static(attempt!(input.text())))
            }
            MP_OP_LIST_MODELS_REQUEST => out.request(attempt!(
                factory.list_models_request(attempt!(input.text()))
            )),
            MP_OP_PARSE_LIST_MODELS => out.json(&attempt!(
                factory.parse_list_models(attempt!(input.response()))
            )),
            _ => Outcome::Unsupported,
        }
    }
}

struct HttpProviderObject(Box<dyn HTTPLLMProvider>);

impl Object for HttpProviderObject {
    fn call(&self, op: u32, input: &Input<'_>, out: &mut Output<'_>) -> Outcome {
        let provider = &self.0;
        match op {
            MP_OP_CHAT_REQUEST => {
                let chat: ChatInput<'static> = attempt!(input.parse());
                let call = ChatCall {
                    messages: &chat.messages,
                    tools: chat.tools.as_deref(),
                    params: &chat.params,
                };
                out.request(attempt!(provider.chat_call_request(&call, chat.stream)))
            }
            MP_OP_PARSE_CHAT => {
                out.json(&attempt!(provider.parse_chat(attempt!(input.response()))))
            }
            MP_OP_SUPPORTS_STREAMING => out.json(&provider.supports_streaming()),
            MP_OP_STREAM_PARSER => Outcome::Made(Box::new(ParserObject(Mutex::new(attempt!(
                provider.chat_stream_parser()
            ))))),
            MP_OP_CLASSIFY_ERROR => out.json(&provider.classify_error(&attempt!(input.response()))),
            MP_OP_EMBED_REQUEST => {
                let embed: EmbedInput<'static> = attempt!(input.parse());
                out.request(attempt!(provider.embed_request(&embed.inputs)))
            }
            MP_OP_PARSE_EMBED => {
                out.json(&attempt!(provider.parse_embed(attempt!(input.response()))))
            }
            MP_OP_COMPLETE_REQUEST => {
                let request: CompletionRequest = attempt!(input.parse());
                out.request(attempt!(provider.complete_request(&request)))
            }
            MP_OP_PARSE_COMPLETE => out.json(&attempt!(
                provider.parse_complete(attempt!(input.response()))
            )),
            MP_OP_TRANSCRIBE_REQUEST => {
                let request: SttRequest = attempt!(input.parse());
                out.request(attempt!(provider.stt_request(&request)))
            }
            MP_OP_PARSE_TRANSCRIBE => {
                out.json(&attempt!(provider.parse_stt(attempt!(input.response()))))
            }
            MP_OP_SPEECH_REQUEST => {
                let request: TtsRequest = attempt!(input.parse());
                out.request(attempt!(provider.tts_request(&request)))
            }
            MP_OP_PARSE_SPEECH => {
                out.json(&attempt!(provider.parse_tts(attempt!(input.response()))))
            }
            _ => Outcome::Unsupported,
        }
    }
}

/// A stream parser: called by one host thread at a time (the mutex is never contended).
struct ParserObject(Mutex<Box<dyn ChatStreamParser>>);

impl Object for ParserObject {
    fn call(&self, op: u32, input: &Input<'_>, out: &mut Output<'_>) -> Outcome {
        let mut parser = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let events = match op {
            MP_OP_PARSE_LINES => {
                let mut events = Vec::new();
                let mut rest = input.body;
                while !rest.is_empty() {
                    let end = memchr::memchr(b'\n', rest).map_or(rest.len(), |at| at + 1);
                    let (line, after) = rest.split_at(end);
                    events.extend(attempt!(parser.parse_chunk(line)));
                    rest = after;
                }
                events
            }
            MP_OP_FINISH => attempt!(parser.finish()),
            _ => return Outcome::Unsupported,
        };
        out.events(&events);
        Outcome::Done
    }
}

struct FactoryObject(Arc<dyn LLMProviderFactory>);

impl Object for FactoryObject {
    fn call(&self, op: u32, input: &Input<'_>, out: &mut Output<'_>) -> Outcome {
        let factory = &self.0;
        match op {
            MP_OP_INFO => out.json(&attempt!(info(
                factory.name(),
                factory.api_key_name(),
                &factory.config_schema(),
                true,
            ))),
            MP_OP_FROM_CONFIG => {
                let provider = attempt!(factory.from_config(attempt!(input.text())));
                Outcome::Made(Box::new(ProviderObject(Arc::from(provider))))
            }
            MP_OP_LIST_MODELS => {
                let factory = factory.clone();
                let config = attempt!(input.text()).to_string();
                start(input, out, None, async move {
                    to_json(factory.list_models(&config).await)
                })
            }
            _ => Outcome::Unsupported,
        }
    }
}

struct ProviderObject(Arc<dyn LLMProvider>);

impl Object for ProviderObject {
    fn call(&self, op: u32, input: &Input<'_>, out: &mut Output<'_>) -> Outcome {
        let provider = self.0.clone();
        match op {
            MP_OP_CHAT => {
                let chat: ChatInput<'static> = attempt!(input.parse());
                start(input, out, None, async move {
                    let call = ChatCall {
                        messages: &chat.messages,
                        tools: chat.tools.as_deref(),
                        params: &chat.params,
                    };
                    to_json(provider.chat_call(&call).await)
                })
            }
            MP_OP_SUPPORTS_STREAMING => out.json(&provider.supports_streaming()),
            MP_OP_CHAT_STREAM if !provider.supports_streaming() => Outcome::Unsupported,
            MP_OP_CHAT_STREAM => {
                let chat: ChatInput<'static> = attempt!(input.parse());
                let events = StreamSender::default();
                let sender = events.clone();
                start(input, out, Some(events), async move {
                    let call = ChatCall {
                        messages: &chat.messages,
                        tools: chat.tools.as_deref(),
                        params: &chat.params,
                    };
                    provider
                        .chat_stream(&call, &sender)
                        .await
                        .map(|()| Vec::new())
                })
            }
            MP_OP_EMBED => {
                let embed: EmbedInput<'static> = attempt!(input.parse());
                start(input, out, None, async move {
                    to_json(provider.embed(&embed.inputs).await)
                })
            }
            MP_OP_COMPLETE => {
                let request: CompletionRequest = attempt!(input.parse());
                start(input, out, None, async move {
                    to_json(provider.complete(&request).await)
                })
            }
            MP_OP_TRANSCRIBE => {
                let request: SttRequest = attempt!(input.parse());
                start(input, out, None, async move {
                    to_json(provider.transcribe(&request).await)
                })
            }
            MP_OP_SPEECH => {
                let request: TtsRequest = attempt!(input.parse());
                start(input, out, None, async move {
                    to_json(provider.speech(&request).await)
                })
            }
            _ => Outcome::Unsupported,
        }
    }
}

/// Body of `plugin_sdk_factory`.
pub fn sdk_factory_entry<F: SdkPluginFactory + 'static>(
    output: *const MpOutput,
    factory: *mut MpObject,
    make: impl FnOnce() -> F,
) -> i32 {
    factory_entry_with(output, factory, || {
        Box::new(SdkFactoryObject(Box::new(make()))) as Box<dyn Object>
    })
}

struct SdkFactoryObject(Box<dyn SdkPluginFactory>);

impl Object for SdkFactoryObject {
    fn call(&self, op: u32, input: &Input<'_>, out: &mut Output<'_>) -> Outcome {
        match op {
            MP_OP_MANIFEST => {
                out.write(MP_PART_JSON, self.0.manifest().as_bytes());
                Outcome::Done
            }
            MP_OP_INIT => Outcome::Made(match attempt!(self.0.init(attempt!(input.text()))) {
                SdkPlugin::Embedder(plugin) => Box::new(EmbedderObject(Arc::from(plugin))),
                SdkPlugin::VectorBackend(plugin) => Box::new(VectorObject(Arc::from(plugin))),
                SdkPlugin::ToolExecutor(plugin) => Box::new(ExecutorObject(Arc::from(plugin))),
            }),
            _ => Outcome::Unsupported,
        }
    }
}

/// The lifecycle operations every SDK plugin answers; `None` for any other.
fn lifecycle<P: PluginLifecycle + ?Sized + 'static>(
    plugin: &Arc<P>,
    op: u32,
    input: &Input<'_>,
    out: &mut Output<'_>,
) -> Option<Outcome> {
    let plugin = plugin.clone();
    match op {
        MP_OP_HEALTH_CHECK => Some(start(input, out, None, async move {
            to_json(Ok(plugin.health_check().await))
        })),
        MP_OP_SHUTDOWN => Some(start(input, out, None, async move {
            plugin.shutdown().await;
            Ok(Vec::new())
        })),
        _ => None,
    }
}

struct EmbedderObject(Arc<dyn Embedder>);

impl Object for EmbedderObject {
    fn call(&self, op: u32, input: &Input<'_>, out: &mut Output<'_>) -> Outcome {
        if let Some(outcome) = lifecycle(&self.0, op, input, out) {
            return outcome;
        }
        let plugin = self.0.clone();
        match op {
            MP_OP_EMBEDDER_DIMS => out.json(&plugin.dims()),
            MP_OP_EMBED_TEXTS => {
                let request: EmbedTextsInput = attempt!(input.parse());
                start(input, out, None, async move {
                    to_json(plugin.embed_texts(&request.texts).await)
                })
            }
            _ => Outcome::Unsupported,
        }
    }
}

struct VectorObject(Arc<dyn VectorBackend>);

impl Object for VectorObject {
    fn call(&self, op: u32, input: &Input<'_>, out: &mut Output<'_>) -> Outcome {
        if let Some(outcome) = lifecycle(&self.0, op, input, out) {
            return outcome;
        }
        let plugin = self.0.clone();
        match op {
            MP_OP_VECTOR_UPSERT => {
                let request: UpsertInput = attempt!(input.parse());
                start(input, out, None, async move {
                    plugin
                        .upsert(&request.repo_id, request.items)
                        .await
                        .map(|()| Vec::new())
                })
            }
            MP_OP_VECTOR_QUERY => {
                let request: QueryInput = attempt!(input.parse());
                start(input, out, None, async move {
                    let filter = request.filter.as_ref();
                    to_json(
                        plugin
                            .query(&request.repo_id, &request.vector, request.top_k, filter)
                            .await,
                    )
                })
            }
            MP_OP_VECTOR_DELETE => {
                let request: DeleteInput = attempt!(input.parse());
                start(input, out, None, async move {
                    plugin
                        .delete_by_ids(&request.repo_id, &request.ids)
                        .await
                        .map(|()| Vec::new())
                })
            }
            MP_OP_VECTOR_WIPE => {
                let request: RepoInput = attempt!(input.parse());
                start(input, out, None, async move {
                    plugin
                        .wipe_repo(&request.repo_id)
                        .await
                        .map(|()| Vec::new())
                })
            }
            MP_OP_VECTOR_INFO => out.json(&plugin.info()),
            _ => Outcome::Unsupported,
        }
    }
}

struct ExecutorObject(Arc<dyn ToolExecutor>);

impl Object for ExecutorObject {
    fn call(&self, op: u32, input: &Input<'_>, out: &mut Output<'_>) -> Outcome {
        if let Some(outcome) = lifecycle(&self.0, op, input, out) {
            return outcome;
        }
        let plugin = self.0.clone();
        match op {
            MP_OP_TOOL_EXECUTE => {
                let request: ExecuteInput = attempt!(input.parse());
                start(input, out, None, async move {
                    to_json(plugin.execute(request.request, request.policy).await)
                })
            }
            MP_OP_TOOL_IS_ALLOWED => {
                let request: IsAllowedInput = attempt!(input.parse());
                out.json(&plugin.is_allowed(&request.command, &request.policy))
            }
            _ => Outcome::Unsupported,
        }
    }
}

fn to_json<T: Serialize>(result: Result<T, PluginError>) -> Result<Vec<u8>, PluginError> {
    Ok(serde_json::to_vec(&result?)?)
}

/// What a task's future yields: its JSON result (empty for a stream).
type TaskFuture = BoxFuture<'static, Result<Vec<u8>, PluginError>>;

/// The host's waker, as a Rust waker. The task clears it when released, so a clone kept by a
/// timer thread can never call into a host that has let the task go.
struct TaskWake(Mutex<Option<MpWaker>>);

impl Wake for TaskWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(MpWaker {
            ctx,
            wake: Some(wake),
        }) = *slot
        {
            wake(ctx);
        }
    }
}

struct TaskState {
    future: Option<TaskFuture>,
    events: Option<StreamSender>,
    wake: Arc<TaskWake>,
}

impl TaskState {
    /// Polls the future once; hands the host the events it produced.
    fn poll(&mut self, out: &mut Output<'_>) -> Poll<Outcome> {
        let Some(future) = self.future.as_mut() else {
            return Poll::Ready(Outcome::Failed(PluginError::invalid_request(
                "the task was polled after it finished",
            )));
        };
        let waker = Waker::from(self.wake.clone());
        let poll = future.as_mut().poll(&mut Context::from_waker(&waker));
        if let Some(events) = &self.events {
            if !out.events(&events.drain()) {
                events.close();
            }
        }
        match poll {
            Poll::Pending => Poll::Pending,
            Poll::Ready(result) => {
                self.future = None;
                Poll::Ready(match result {
                    Ok(json) if json.is_empty() => Outcome::Done,
                    Ok(json) => {
                        out.write(MP_PART_JSON, &json);
                        Outcome::Done
                    }
                    Err(err) => Outcome::Failed(err),
                })
            }
        }
    }
}

/// Starts an asynchronous operation: polls it once at once, and hands the host a task to poll
/// if it is not finished.
fn start(
    input: &Input<'_>,
    out: &mut Output<'_>,
    events: Option<StreamSender>,
    future: impl std::future::Future<Output = Result<Vec<u8>, PluginError>> + Send + 'static,
) -> Outcome {
    let mut state = TaskState {
        future: Some(Box::pin(future)),
        events,
        wake: Arc::new(TaskWake(Mutex::new(Some(input.waker)))),
    };
    match state.poll(out) {
        Poll::Ready(outcome) => outcome,
        Poll::Pending => Outcome::Pending(Box::new(TaskObject(Mutex::new(state)))),
    }
}

/// A running asynchronous operation.
struct TaskObject(Mutex<TaskState>);

impl Object for TaskObject {
    fn call(&self, op: u32, input: &Input<'_>, out: &mut Output<'_>) -> Outcome {
        if op != MP_OP_POLL {
            return Outcome::Unsupported;
        }
        let mut state = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *state.wake.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(input.waker);
        match state.poll(out) {
            Poll::Pending => Outcome::Waiting,
            Poll::Ready(outcome) => outcome,
        }
    }
}

impl Drop for TaskObject {
    fn drop(&mut self) {
        let state = self.0.get_mut().unwrap_or_else(|p| p.into_inner());
        // Released: the host's waker must not be called from now on, even by a kept clone.
        *state.wake.0.lock().unwrap_or_else(|p| p.into_inner()) = None;
        if let Some(events) = &state.events {
            events.close();
        }
    }
}

/// Exports an HTTP provider plugin: `export_http_plugin!(MyFactory::default());`
#[macro_export]
macro_rules! export_http_plugin {
    ($make:expr) => {
        /// modelport HTTP factory entry point.
        #[unsafe(no_mangle)]
        pub extern "C" fn plugin_http_factory(
            output: *const $crate::abi::MpOutput,
            factory: *mut $crate::abi::MpObject,
        ) -> i32 {
            $crate::export::http_factory_entry(output, factory, || $make)
        }
        $crate::export_abi_descriptor!();
        $crate::export_logging!();
    };
}

/// Exports a non-HTTP (async) provider plugin: `export_plugin!(MyFactory::default());`
#[macro_export]
macro_rules! export_plugin {
    ($make:expr) => {
        /// modelport factory entry point.
        #[unsafe(no_mangle)]
        pub extern "C" fn plugin_factory(
            output: *const $crate::abi::MpOutput,
            factory: *mut $crate::abi::MpObject,
        ) -> i32 {
            $crate::export::factory_entry(output, factory, || $make)
        }
        $crate::export_abi_descriptor!();
        $crate::export_logging!();
    };
}

/// Exports a plugin of seed 004's other kinds (embedder, vector backend, tool executor):
/// `export_sdk_plugin!(MyFactory::default());` where `MyFactory: SdkPluginFactory`.
#[macro_export]
macro_rules! export_sdk_plugin {
    ($make:expr) => {
        /// modelport SDK factory entry point.
        #[unsafe(no_mangle)]
        pub extern "C" fn plugin_sdk_factory(
            output: *const $crate::abi::MpOutput,
            factory: *mut $crate::abi::MpObject,
        ) -> i32 {
            $crate::export::sdk_factory_entry(output, factory, || $make)
        }
        $crate::export_abi_descriptor!();
        $crate::export_logging!();
    };
}

/// Exports the ABI descriptor of this SDK (the export macros include it).
#[macro_export]
macro_rules! export_abi_descriptor {
    () => {
        /// modelport ABI descriptor.
        #[unsafe(no_mangle)]
        pub extern "C" fn modelport_abi_descriptor() -> *const $crate::abi::MpDescriptor {
            static DESCRIPTOR: $crate::abi::MpDescriptor = $crate::abi::MpDescriptor {
                plugin_version: concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast(),
                ..$crate::abi::MpDescriptor::CURRENT
            };
            &DESCRIPTOR
        }
    };
}

/// Exports `plugin_init_logging`, forwarding `log` records to the host (the export macros include it).
#[macro_export]
macro_rules! export_logging {
    () => {
        /// modelport logging hook.
        #[unsafe(no_mangle)]
        pub extern "C" fn plugin_init_logging(log: $crate::abi::MpLogFn, max_level: u32) {
            $crate::logging::init_logging(log, max_level)
        }
    };
}
