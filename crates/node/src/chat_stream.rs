//! `BindingChatStream`: a streamed chat answer, pulled by the facade one batch at a time.
use std::sync::Arc;

use modelport_core::ChatStream;
use napi::Env;
use napi_derive::napi;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::error::napi_result;
use crate::inline_poll::{Answer, answer};
use crate::types::stream_event::batch_json;

/// Most events handed over in one batch.
const MAX_BATCH_EVENTS: usize = 4096;

#[napi]
pub struct BindingChatStream {
    stream: Arc<Mutex<Option<ChatStream>>>,
    closed: CancellationToken,
}

impl BindingChatStream {
    pub fn new(stream: ChatStream) -> Self {
        Self {
            stream: Arc::new(Mutex::new(Some(stream))),
            closed: CancellationToken::new(),
        }
    }
}

#[napi]
impl BindingChatStream {
    /// The next batch of events as a JSON array, or `null` at the end of the answer. Events
    /// already received come back at once, without a promise (see `inline_poll`).
    #[napi]
    pub fn next<'env>(&self, env: &'env Env) -> napi::Result<Answer<'env, Option<String>>> {
        let stream = self.stream.clone();
        let closed = self.closed.clone();
        answer(env, async move {
            let mut guard = stream.lock().await;
            let Some(stream) = guard.as_mut() else {
                return Ok(None);
            };
            let batch = tokio::select! {
                biased;
                _ = closed.cancelled() => Ok(None),
                batch = stream.next_batch(MAX_BATCH_EVENTS) => batch,
            };
            match batch {
                Ok(Some(events)) => Ok(Some(batch_json(&events))),
                ended => {
                    // Ended, failed or closed: drop the stream now (closes its HTTP exchange).
                    guard.take();
                    napi_result(ended).map(|_| None)
                }
            }
        })
    }

    /// Stops the stream and frees what it holds (HTTP connection, Wasm instance). Idempotent.
    #[napi]
    pub fn close(&self) {
        self.closed.cancel();
        if let Ok(mut guard) = self.stream.try_lock() {
            guard.take();
        }
    }
}
