//! Stream events in the facade's shape (`{ type: 'text', text }`, `{ type: 'done', finishReason }`, …),
//! sent as one JSON array per batch: one string crosses the boundary instead of an object per event.
use modelport_core::sdk::{StreamChunk, Usage};
use serde::Serialize;

use crate::types::chat_response::finish_reason_name;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsToolCall<'a> {
    id: &'a str,
    name: &'a str,
    arguments: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsUsage {
    input_tokens: u32,
    output_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_read: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_write: Option<u32>,
}

impl From<&Usage> for JsUsage {
    fn from(usage: &Usage) -> Self {
        Self {
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
            reasoning_tokens: usage.reasoning_tokens,
            cache_read: usage.cache_read,
            cache_write: usage.cache_write,
        }
    }
}

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
        tool_call: JsToolCall<'a>,
    },
    Usage {
        usage: JsUsage,
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
            StreamChunk::ToolUseComplete { index, tool_call } => JsEvent::ToolUseComplete {
                index: *index,
                tool_call: JsToolCall {
                    id: &tool_call.id,
                    name: &tool_call.function.name,
                    arguments: &tool_call.function.arguments,
                },
            },
            StreamChunk::Usage(usage) => JsEvent::Usage {
                usage: usage.into(),
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
