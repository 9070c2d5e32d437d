//! `ChatResponse` → the facade's `{ text, toolCalls, thinking, usage, finishReason }`.
use modelport_core::sdk::{ChatResponse, FinishReason, ToolCall, Usage};
use napi_derive::napi;
use serde::Serialize;

#[napi(object)]
#[derive(Serialize)]
pub struct BindingToolCall {
    pub id: String,
    pub name: String,
    /// JSON text exactly as the model produced it.
    pub arguments: String,
}

/// Also serialized (camelCase, absent fields left out) for stream events.
#[napi(object)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BindingUsage {
    pub input_tokens: u32,
    pub output_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<u32>,
}

#[napi(object)]
pub struct BindingChatResponse {
    pub text: Option<String>,
    pub tool_calls: Vec<BindingToolCall>,
    pub thinking: Option<String>,
    pub usage: Option<BindingUsage>,
    /// `stop` | `length` | `contentFilter` | `toolCalls` | `error` | `other` | `unknown`.
    pub finish_reason: Option<String>,
}

impl From<ToolCall> for BindingToolCall {
    fn from(call: ToolCall) -> Self {
        Self {
            id: call.id,
            name: call.function.name,
            arguments: call.function.arguments,
        }
    }
}

impl From<Usage> for BindingUsage {
    fn from(usage: Usage) -> Self {
        Self {
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
            reasoning_tokens: usage.reasoning_tokens,
            cache_read: usage.cache_read,
            cache_write: usage.cache_write,
        }
    }
}

/// The facade's spelling of a finish reason.
pub fn finish_reason_name(reason: FinishReason) -> &'static str {
    match reason {
        FinishReason::Stop => "stop",
        FinishReason::Length => "length",
        FinishReason::ContentFilter => "contentFilter",
        FinishReason::ToolCalls => "toolCalls",
        FinishReason::Error => "error",
        FinishReason::Other => "other",
        FinishReason::Unknown => "unknown",
    }
}

impl From<ChatResponse> for BindingChatResponse {
    fn from(response: ChatResponse) -> Self {
        Self {
            text: response.text,
            tool_calls: response
                .tool_calls
                .unwrap_or_default()
                .into_iter()
                .map(BindingToolCall::from)
                .collect(),
            thinking: response.thinking,
            usage: response.usage.map(BindingUsage::from),
            finish_reason: response
                .finish_reason
                .map(|r| finish_reason_name(r).to_string()),
        }
    }
}
