//! A whole answer told as stream events, for providers that cannot stream: the consumer sees
//! the same event sequence a streaming provider would send, all at once.
use modelport_plugin::{ChatResponse, FinishReason, StreamChunk};

/// `thinking`, `text`, each tool call (start, its whole arguments, complete), `usage`, `done`.
/// The finish reason is the provider's own; `Unknown` when it gave none (never a made-up `Stop`).
pub fn events_of(response: ChatResponse) -> Vec<StreamChunk> {
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
