//! A TypeScript provider plugin (`modelport/sdk`) as the core's `ExternalProvider`: each attempt
//! calls into the functions the facade hands over — directly when the call is polled on the JS
//! thread (`js_thread`), through thread-safe functions otherwise — and an attempt the core drops
//! (abort, timeout, close) is aborted in JavaScript too.
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use modelport_core::external::ExternalProvider;
use modelport_core::sdk::wire::ChatInput;
use modelport_core::sdk::{ChatCall, ChatResponse, StreamChunk};
use modelport_core::stream::ChunkSender;
use modelport_core::{ErrorCode, ModelportError, Result};
use napi::bindgen_prelude::{FunctionRef, Promise};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Status};
use serde::Deserialize;
use tokio::sync::oneshot;

use crate::js_thread;

/// `([callId, request JSON]) => void`: starts an attempt, whose outcome comes back through
/// [`JsProvider::settle`].
pub type GenerateFn = ThreadsafeFunction<(u32, String), (), (u32, String), Status, false, true>;
/// The same function, called directly on the JS thread.
pub type GenerateHereFn = FunctionRef<(u32, String), ()>;
/// `([callId, request JSON]) => Promise<boolean>`: starts a stream; `false` if the plugin has none.
pub type StreamStartFn =
    ThreadsafeFunction<(u32, String), Promise<bool>, (u32, String), Status, false, true>;
/// `(callId) => Promise<string | null>`: the next events (a JSON array of `StreamChunk`), `null` at the end.
pub type StreamNextFn = ThreadsafeFunction<u32, Promise<Option<String>>, u32, Status, false, true>;
/// `(callId) => void`: stop that attempt.
pub type AbortFn = ThreadsafeFunction<u32, (), u32, Status, false, true>;

/// How an attempt ended in JavaScript: the answer's JSON, or the failure's (see [`JsFailure`]).
pub type Outcome = std::result::Result<String, String>;

/// The JavaScript side of one registered provider plugin.
pub struct JsProvider {
    pub generate: GenerateFn,
    pub generate_here: GenerateHereFn,
    pub stream_start: StreamStartFn,
    pub stream_next: StreamNextFn,
    pub abort: AbortFn,
    next_call: AtomicU32,
    /// Where the outcome of each running `generate` attempt goes.
    outcomes: Mutex<HashMap<u32, oneshot::Sender<Outcome>>>,
}

impl JsProvider {
    pub fn new(
        generate: GenerateFn,
        generate_here: GenerateHereFn,
        stream_start: StreamStartFn,
        stream_next: StreamNextFn,
        abort: AbortFn,
    ) -> Self {
        Self {
            generate,
            generate_here,
            stream_start,
            stream_next,
            abort,
            next_call: AtomicU32::new(1),
            outcomes: Mutex::default(),
        }
    }

    fn outcomes(&self) -> std::sync::MutexGuard<'_, HashMap<u32, oneshot::Sender<Outcome>>> {
        self.outcomes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hands attempt `id` its outcome (the facade calls this when `generate` ends); an attempt
    /// no longer waiting (aborted, timed out) is ignored.
    pub fn settle(&self, id: u32, outcome: Outcome) {
        // Taken out first: sending may go on with the attempt, which ends by locking the map.
        let sender = self.outcomes().remove(&id);
        if let Some(sender) = sender {
            let _ = sender.send(outcome);
        }
    }

    fn generate_here(&self, env: &Env, input: (u32, String)) -> napi::Result<()> {
        self.generate_here.borrow_back(env)?.call(input)
    }

    fn start(&self) -> Attempt<'_> {
        Attempt {
            provider: self,
            id: self.next_call.fetch_add(1, Ordering::Relaxed),
            finished: false,
        }
    }
}

/// One attempt in JavaScript; aborted there if dropped unfinished.
struct Attempt<'a> {
    provider: &'a JsProvider,
    id: u32,
    finished: bool,
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        self.provider.outcomes().remove(&self.id);
        if !self.finished {
            self.provider
                .abort
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
    js_failure(err.reason)
}

/// The facade's failure JSON (or any other text) as a `ModelportError`.
fn js_failure(text: String) -> ModelportError {
    let Ok(failure) = serde_json::from_str::<JsFailure>(&text) else {
        return ModelportError::new(ErrorCode::ProviderError, "the plugin failed").with_cause(text);
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
        let (sender, outcome) = oneshot::channel();
        self.outcomes().insert(attempt.id, sender);
        let input = (attempt.id, request(call));
        // Polled on the JS thread (a `Provider.chat` call): call in directly.
        let called = match js_thread::env_here() {
            Some(env) => self.generate_here(&env, input),
            None => match self
                .generate
                .call(input, ThreadsafeFunctionCallMode::NonBlocking)
            {
                Status::Ok => Ok(()),
                status => Err(napi::Error::from_status(status)),
            },
        };
        called.map_err(js_error)?;
        let outcome = outcome.await.map_err(|_| {
            ModelportError::new(ErrorCode::PluginError, "the plugin's call ended unanswered")
        })?;
        attempt.finished = true;
        let text = outcome.map_err(js_failure)?;
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
