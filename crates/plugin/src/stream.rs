//! Streamed chat events, externally tagged as in QueryMT (`{"text":"…"}`, `{"done":{…}}`).
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
