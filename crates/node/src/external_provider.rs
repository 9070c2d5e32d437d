//! A TypeScript provider plugin (`modelport/sdk`) as the core's `ExternalProvider`: each attempt
//! calls into JavaScript through thread-safe functions the facade hands over, and an attempt the
//! core drops (abort, timeout, close) is aborted in JavaScript too.
use std::borrow::Cow;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use modelport_core::external::ExternalProvider;
use modelport_core::sdk::wire::ChatInput;
use modelport_core::sdk::{ChatCall, ChatResponse, StreamChunk};
use modelport_core::stream::ChunkSender;
use modelport_core::{ErrorCode, ModelportError, Result};
use napi::Status;
use napi::bindgen_prelude::Promise;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use serde::Deserialize;

/// `([callId, request JSON]) => Promise<ChatResponse JSON>` (the tuple arrives as one array).
pub type GenerateFn =
    ThreadsafeFunction<(u32, String), Promise<String>, (u32, String), Status, false, true>;
/// `([callId, request JSON]) => Promise<boolean>`: starts a stream; `false` if the plugin has none.
pub type StreamStartFn =
    ThreadsafeFunction<(u32, String), Promise<bool>, (u32, String), Status, false, true>;
/// `(callId) => Promise<string | null>`: the next events (a JSON array of `StreamChunk`), `null` at the end.
pub type StreamNextFn = ThreadsafeFunction<u32, Promise<Option<String>>, u32, Status, false, true>;
/// `(callId) => void`: stop that attempt.
pub type AbortFn = ThreadsafeFunction<u32, (), u32, Status, false, true>;

/// The JavaScript side of one registered provider plugin.
pub struct JsProvider {
    pub generate: GenerateFn,
    pub stream_start: StreamStartFn,
    pub stream_next: StreamNextFn,
    pub abort: AbortFn,
    next_call: AtomicU32,
}

impl JsProvider {
    pub fn new(
        generate: GenerateFn,
        stream_start: StreamStartFn,
        stream_next: StreamNextFn,
        abort: AbortFn,
    ) -> Self {
        Self {
            generate,
            stream_start,
            stream_next,
            abort,
            next_call: AtomicU32::new(1),
        }
    }

    fn start(&self) -> Attempt<'_> {
        Attempt {
            abort: &self.abort,
            id: self.next_call.fetch_add(1, Ordering::Relaxed),
            finished: false,
        }
    }
}

/// One attempt in JavaScript; aborted there if dropped unfinished.
struct Attempt<'a> {
    abort: &'a AbortFn,
    id: u32,
    finished: bool,
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.abort
                .call(self.id, ThreadsafeFunctionCallMode::NonBlocking);
        }
    }
}

/// What the facade rejects with: `{"code","message","retryable","status"}` as the error's message.
#[derive(Deserialize)]
struct JsFailure {
    code: Option<String>,
    message: String,
    retryable: Option<bool>,
    status: Option<u16>,
}

/// A JavaScript failure as a `ModelportError`: its code if it names one, else `PROVIDER_ERROR`.
fn js_error(err: napi::Error) -> ModelportError {
    let Ok(failure) = serde_json::from_str::<JsFailure>(&err.reason) else {
        return ModelportError::new(ErrorCode::ProviderError, "the plugin failed")
            .with_cause(err.reason);
    };
    let code = failure
        .code
        .and_then(|name| {
            ErrorCode::ALL
                .into_iter()
                .find(|code| code.as_str() == name)
        })
        .unwrap_or(ErrorCode::ProviderError);
    let mut error = ModelportError::new(code, failure.message);
    error.retryable = Some(failure.retryable.unwrap_or(false));
    error.status = failure.status;
    error
}

fn request(call: ChatCall<'_>) -> String {
    let input = ChatInput {
        messages: Cow::Borrowed(call.messages),
        tools: call.tools.map(Cow::Borrowed),
        params: Cow::Borrowed(call.params),
        stream: false,
    };
    serde_json::to_string(&input).expect("host values serialize")
}

fn parse_error(what: &str, err: serde_json::Error) -> ModelportError {
    ModelportError::new(
        ErrorCode::ParseError,
        format!("the plugin's {what} is malformed"),
    )
    .with_cause(err)
}

#[async_trait]
impl ExternalProvider for JsProvider {
    async fn chat(&self, call: ChatCall<'_>) -> Result<ChatResponse> {
        let mut attempt = self.start();
        let promise = self
            .generate
            .call_async_catch((attempt.id, request(call)))
            .await
            .map_err(js_error)?;
        let text = promise.await.map_err(js_error)?;
        attempt.finished = true;
        serde_json::from_str(&text).map_err(|err| parse_error("answer", err))
    }

    async fn chat_stream(&self, call: ChatCall<'_>, sender: &ChunkSender) -> Result<bool> {
        let mut attempt = self.start();
        let started = self
            .stream_start
            .call_async_catch((attempt.id, request(call)))
            .await
            .map_err(js_error)?;
        if !started.await.map_err(js_error)? {
            attempt.finished = true;
            return Ok(false);
        }
        loop {
            let next = self
                .stream_next
                .call_async_catch(attempt.id)
                .await
                .map_err(js_error)?;
            let Some(batch) = next.await.map_err(js_error)? else {
                attempt.finished = true;
                return Ok(true);
            };
            let events: Vec<StreamChunk> =
                serde_json::from_str(&batch).map_err(|err| parse_error("stream event", err))?;
            sender.send(events).await?;
        }
    }
}
