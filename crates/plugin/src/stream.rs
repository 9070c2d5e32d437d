//! Streamed chat events, externally tagged as in QueryMT (`{"text":"…"}`, `{"done":{…}}`).
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::response::{FinishReason, Usage};
use crate::tool::ToolCall;

/// One event of a streamed chat answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamChunk {
    /// A piece of answer text.
    Text(String),
    /// A piece of reasoning text.
    Thinking(String),
    /// The signature of the reasoning block just streamed (providers that need signed
    /// reasoning echoed back on later turns).
    ThinkingSignature(String),
    /// A tool call begins at `index`.
    ToolUseStart {
        index: usize,
        id: String,
        name: String,
    },
    /// More argument JSON for the tool call at `index`.
    ToolUseInputDelta { index: usize, partial_json: String },
    /// The tool call at `index` is whole.
    ToolUseComplete { index: usize, tool_call: ToolCall },
    /// Token usage of the whole call.
    Usage(Usage),
    /// The end of the answer.
    Done { finish_reason: FinishReason },
}

/// Where a streaming plugin sends its events (see `LLMProvider::chat_stream`). The SDK hands
/// them to the host each time the host polls the stream.
#[derive(Debug, Clone, Default)]
pub struct StreamSender {
    queue: Arc<Mutex<StreamQueue>>,
}

#[derive(Debug, Default)]
struct StreamQueue {
    events: VecDeque<StreamChunk>,
    closed: bool,
}

impl StreamSender {
    /// Queues `event`; `false` once the host wants no more (the consumer went away): stop then.
    pub fn send(&self, event: StreamChunk) -> bool {
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if !queue.closed {
            queue.events.push_back(event);
        }
        !queue.closed
    }

    /// Whether the host wants no more events.
    pub fn is_closed(&self) -> bool {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).closed
    }

    /// The events queued so far (the SDK's export code drains them to the host).
    pub(crate) fn drain(&self) -> Vec<StreamChunk> {
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        queue.events.drain(..).collect()
    }

    /// Marks the consumer gone.
    pub(crate) fn close(&self) {
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        queue.closed = true;
        queue.events.clear();
    }
}
