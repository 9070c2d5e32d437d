//! Stream events in the facade's shape (`{ type: 'text', text }`, `{ type: 'done', finishReason }`, …),
//! sent as one JSON array per batch: one string crosses the boundary instead of an object per event.
use modelport_core::sdk::StreamChunk;
use serde::Serialize;

use crate::types::chat_response::{BindingToolCall, BindingUsage, finish_reason_name};

#[derive(Serialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
enum JsEvent<'a> {
    Text {
        text: &'a str,
    },
    Thinking {
        text: &'a str,
    },
    ThinkingSignature {
        signature: &'a str,
    },
    ToolUseStart {
        index: usize,
        id: &'a str,
        name: &'a str,
    },
    ToolUseInputDelta {
        index: usize,
        partial_json: &'a str,
    },
    ToolUseComplete {
        index: usize,
        tool_call: BindingToolCall,
    },
    Usage {
        usage: BindingUsage,
    },
    Done {
        finish_reason: &'static str,
    },
}

impl<'a> From<&'a StreamChunk> for JsEvent<'a> {
    fn from(chunk: &'a StreamChunk) -> Self {
        match chunk {
            StreamChunk::Text(text) => JsEvent::Text { text },
            StreamChunk::Thinking(text) => JsEvent::Thinking { text },
            StreamChunk::ThinkingSignature(signature) => JsEvent::ThinkingSignature { signature },
            StreamChunk::ToolUseStart { index, id, name } => JsEvent::ToolUseStart {
                index: *index,
                id,
                name,
            },
            StreamChunk::ToolUseInputDelta {
                index,
                partial_json,
            } => JsEvent::ToolUseInputDelta {
                index: *index,
                partial_json,
            },
            // Rare events: owned copies in the shapes `chat()` answers with.
            StreamChunk::ToolUseComplete { index, tool_call } => JsEvent::ToolUseComplete {
                index: *index,
                tool_call: tool_call.clone().into(),
            },
            StreamChunk::Usage(usage) => JsEvent::Usage {
                usage: usage.clone().into(),
            },
            StreamChunk::Done { finish_reason } => JsEvent::Done {
                finish_reason: finish_reason_name(*finish_reason),
            },
        }
    }
}

/// A batch of events as a JSON array in the facade's shape.
pub fn batch_json(events: &[StreamChunk]) -> String {
    let events: Vec<JsEvent<'_>> = events.iter().map(JsEvent::from).collect();
    serde_json::to_string(&events).expect("stream events always serialize")
}
