//! What a provider answers: chat responses, usage, finish reasons, completions.
use serde::{Deserialize, Serialize};

use crate::stream::StreamChunk;
use crate::tool::ToolCall;

/// Why the model stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FinishReason {
    /// A natural end or a stop sequence.
    Stop,
    /// The token limit was reached.
    Length,
    /// A content filter cut the answer.
    ContentFilter,
    /// The model wants tool results.
    ToolCalls,
    /// The provider reported an error.
    Error,
    /// A reason the provider named that has no variant here.
    Other,
    /// The provider did not say.
    Unknown,
}

/// Token accounting for one call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens read.
    pub input_tokens: u32,
    /// Tokens written.
    pub output_tokens: u32,
    /// Tokens spent reasoning, where reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u32>,
    /// Tokens served from a prompt cache, where reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<u32>,
    /// Tokens written to a prompt cache, where reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<u32>,
}

/// A whole (non-streamed) chat answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// The answer's text, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Tool calls the model made, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall>>,
    /// Reasoning text, where the provider exposes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<String>,
    /// Token usage, where reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Why the model stopped, where reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<FinishReason>,
}

impl ChatResponse {
    /// The answer told as the stream events a streaming provider would send, in order:
    /// `thinking`, `text`, each tool call (start, its whole arguments, complete), `usage`, `done`.
    /// The finish reason is the provider's own; `Unknown` when it gave none (never a made-up `Stop`).
    pub fn into_events(self) -> Vec<StreamChunk> {
        let response = self;
        let mut events = Vec::new();
        if let Some(thinking) = response.thinking.filter(|t| !t.is_empty()) {
            events.push(StreamChunk::Thinking(thinking));
        }
        if let Some(text) = response.text.filter(|t| !t.is_empty()) {
            events.push(StreamChunk::Text(text));
        }
        for (index, call) in response
            .tool_calls
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            events.push(StreamChunk::ToolUseStart {
                index,
                id: call.id.clone(),
                name: call.function.name.clone(),
            });
            events.push(StreamChunk::ToolUseInputDelta {
                index,
                partial_json: call.function.arguments.clone(),
            });
            events.push(StreamChunk::ToolUseComplete {
                index,
                tool_call: call,
            });
        }
        if let Some(usage) = response.usage {
            events.push(StreamChunk::Usage(usage));
        }
        events.push(StreamChunk::Done {
            finish_reason: response.finish_reason.unwrap_or(FinishReason::Unknown),
        });
        events
    }
}

/// A text-completion request: `{prompt,suffix,max_tokens,temperature}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompletionRequest {
    /// Text to continue.
    pub prompt: String,
    /// Text that should follow the completion (fill-in-the-middle), if supported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    /// Most tokens to generate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
}

/// A text-completion answer: `{"text":…}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompletionResponse {
    /// The generated text.
    pub text: String,
}
