//! Parsing OpenAI's streamed chat (Server-Sent Events of `chat.completion.chunk` objects).
//!
//! The host feeds the body line by line. SSE framing: `data:` lines (several join with `\n`)
//! make one event, a blank line ends it, `:` lines are comments, `\r\n` ends lines too. Tool-call
//! deltas are reassembled per `index`. The stream is complete only at `data: [DONE]`: a body that
//! ends before it, or an event that is not valid JSON, is a parse error, never a clean finish.
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use crate::failure::Envelope;
use modelport_plugin::{
    ChatStreamParser, FinishReason, FunctionCall, PluginError, StreamChunk, ToolCall, Usage,
};
use serde::Deserialize;

use crate::response::{WireUsage, finish_reason};

#[derive(Deserialize)]
struct ChunkObject {
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    usage: Option<WireUsage>,
    error: Option<Envelope>,
}

#[derive(Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    delta: Option<Delta>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Delta {
    content: Option<String>,
    reasoning_content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ToolCallDelta>,
}

#[derive(Deserialize)]
struct ToolCallDelta {
    index: usize,
    id: Option<String>,
    function: Option<FunctionDelta>,
}

#[derive(Deserialize)]
struct FunctionDelta {
    name: Option<String>,
    arguments: Option<String>,
}

/// A tool call being streamed.
#[derive(Default)]
struct PendingCall {
    id: String,
    name: String,
    arguments: String,
}

/// Parser state of one streamed answer.
#[derive(Default)]
pub struct OpenAIStreamParser {
    /// Bytes of a line not yet ended by `\n`.
    line: Vec<u8>,
    /// Data of the event being read.
    data: Option<String>,
    calls: BTreeMap<usize, PendingCall>,
    finish: Option<FinishReason>,
    done: bool,
}

impl OpenAIStreamParser {
    fn line(&mut self, line: &str, out: &mut Vec<StreamChunk>) -> Result<(), PluginError> {
        if line.is_empty() {
            return match self.data.take() {
                Some(data) => self.event(&data, out),
                None => Ok(()),
            };
        }
        if line.starts_with(':') {
            return Ok(());
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        if field == "data" {
            let value = value.strip_prefix(' ').unwrap_or(value);
            match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_string()),
            }
        }
        // `event`, `id`, `retry` and unknown fields carry nothing for a chat answer.
        Ok(())
    }

    fn event(&mut self, data: &str, out: &mut Vec<StreamChunk>) -> Result<(), PluginError> {
        if self.done {
            return Ok(());
        }
        if data.trim() == "[DONE]" {
            self.complete_calls(out);
            self.done = true;
            out.push(StreamChunk::Done {
                finish_reason: self.finish.unwrap_or(FinishReason::Unknown),
            });
            return Ok(());
        }
        let chunk: ChunkObject = serde_json::from_str(data).map_err(|err| {
            PluginError::parse(format!(
                "invalid JSON in the stream: {err}: {}",
                excerpt(data)
            ))
        })?;
        if let Some(error) = chunk.error {
            return Err(stream_error(error));
        }
        for choice in chunk.choices {
            if let Some(delta) = choice.delta {
                self.delta(delta, out)?;
            }
            if let Some(reason) = choice.finish_reason {
                self.finish = finish_reason(Some(&reason));
                self.complete_calls(out);
            }
        }
        if let Some(usage) = chunk.usage {
            out.push(StreamChunk::Usage(Usage::from(usage)));
        }
        Ok(())
    }

    fn delta(&mut self, delta: Delta, out: &mut Vec<StreamChunk>) -> Result<(), PluginError> {
        if let Some(thinking) = delta.reasoning_content.filter(|t| !t.is_empty()) {
            out.push(StreamChunk::Thinking(thinking));
        }
        if let Some(text) = delta.content.filter(|t| !t.is_empty()) {
            out.push(StreamChunk::Text(text));
        }
        for call in delta.tool_calls {
            let function = call.function.unwrap_or(FunctionDelta {
                name: None,
                arguments: None,
            });
            let index = call.index;
            let pending = match self.calls.entry(index) {
                Entry::Occupied(pending) => pending.into_mut(),
                Entry::Vacant(slot) => {
                    let (Some(id), Some(name)) = (call.id, function.name) else {
                        return Err(PluginError::parse(format!(
                            "tool call {index} streamed without its id and name"
                        )));
                    };
                    out.push(StreamChunk::ToolUseStart {
                        index,
                        id: id.clone(),
                        name: name.clone(),
                    });
                    slot.insert(PendingCall {
                        id,
                        name,
                        arguments: String::new(),
                    })
                }
            };
            if let Some(arguments) = function.arguments.filter(|a| !a.is_empty()) {
                pending.arguments.push_str(&arguments);
                out.push(StreamChunk::ToolUseInputDelta {
                    index,
                    partial_json: arguments,
                });
            }
        }
        Ok(())
    }

    /// Every call streamed so far is whole: the model said why it stopped.
    fn complete_calls(&mut self, out: &mut Vec<StreamChunk>) {
        for (index, call) in std::mem::take(&mut self.calls) {
            out.push(StreamChunk::ToolUseComplete {
                index,
                tool_call: ToolCall {
                    id: call.id,
                    call_type: "function".into(),
                    function: FunctionCall {
                        name: call.name,
                        arguments: call.arguments,
                    },
                },
            });
        }
    }

    /// Parses the complete lines buffered so far, keeping an unfinished one.
    fn lines(&mut self, out: &mut Vec<StreamChunk>) -> Result<(), PluginError> {
        let buffered = std::mem::take(&mut self.line);
        let done = self.complete_lines(&buffered, out)?;
        self.line = buffered[done..].to_vec();
        Ok(())
    }

    /// Parses each complete line of `bytes`; returns how many bytes they took.
    fn complete_lines(
        &mut self,
        bytes: &[u8],
        out: &mut Vec<StreamChunk>,
    ) -> Result<usize, PluginError> {
        let mut done = 0;
        while let Some(end) = memchr::memchr(b'\n', &bytes[done..]) {
            let raw = &bytes[done..done + end];
            done += end + 1;
            let text = std::str::from_utf8(raw)
                .map_err(|err| PluginError::parse(format!("the stream is not UTF-8: {err}")))?;
            self.line(text.trim_end_matches('\r'), out)?;
        }
        Ok(done)
    }
}

fn excerpt(data: &str) -> String {
    let cut: String = data.chars().take(120).collect();
    if cut.len() < data.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

/// An `{"error":{…}}` event in the middle of a stream.
fn stream_error(error: Envelope) -> PluginError {
    let mut err = crate::failure::failure(&error, None, "the provider reported an error");
    err.message = format!("error in the stream: {}", err.message);
    err
}

impl ChatStreamParser for OpenAIStreamParser {
    fn parse_chunk(&mut self, chunk: &[u8]) -> Result<Vec<StreamChunk>, PluginError> {
        let mut out = Vec::new();
        if self.line.is_empty() {
            // The host feeds whole lines: parse them in place, keep only an unfinished tail.
            let done = self.complete_lines(chunk, &mut out)?;
            self.line.extend_from_slice(&chunk[done..]);
        } else {
            self.line.extend_from_slice(chunk);
            self.lines(&mut out)?;
        }
        Ok(out)
    }

    fn finish(&mut self) -> Result<Vec<StreamChunk>, PluginError> {
        let mut out = Vec::new();
        if !self.line.is_empty() {
            self.line.extend_from_slice(b"\n\n");
            self.lines(&mut out)?;
        }
        if !self.done {
            let pending = if self.calls.is_empty() {
                String::new()
            } else {
                format!(" ({} tool call(s) unfinished)", self.calls.len())
            };
            return Err(PluginError::parse(format!(
                "the stream ended before [DONE]: the answer is incomplete{pending}"
            )));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use modelport_plugin::PluginErrorKind;

    fn feed(body: &str) -> Result<Vec<StreamChunk>, PluginError> {
        let mut parser = OpenAIStreamParser::default();
        let mut out = Vec::new();
        for line in body.split_inclusive('\n') {
            out.extend(parser.parse_chunk(line.as_bytes())?);
        }
        out.extend(parser.parse_chunk(b"\n")?);
        out.extend(parser.finish()?);
        Ok(out)
    }

    fn text(events: &[StreamChunk]) -> String {
        events
            .iter()
            .filter_map(|e| match e {
                StreamChunk::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn text_usage_and_finish() {
        let body = "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"}}]}\n\n\
            : keep-alive\n\n\
            data: {\"choices\":[{\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\r\n\r\n\
            data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}\n\n\
            data: [DONE]\n\n";
        let events = feed(body).unwrap();
        assert_eq!(text(&events), "Hello");
        assert!(events.contains(&StreamChunk::Usage(Usage {
            input_tokens: 3,
            output_tokens: 2,
            ..Usage::default()
        })));
        assert_eq!(
            events.last(),
            Some(&StreamChunk::Done {
                finish_reason: FinishReason::Stop
            })
        );
    }

    #[test]
    fn parallel_tool_calls_are_reassembled_per_index() {
        let body = "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"a\",\"function\":{\"name\":\"f\",\"arguments\":\"\"}},{\"index\":1,\"id\":\"b\",\"function\":{\"name\":\"g\",\"arguments\":\"{\\\"y\\\"\"}}]}}]}\n\n\
            data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"x\\\":1}\"}},{\"index\":1,\"function\":{\"arguments\":\":2}\"}}]}}]}\n\n\
            data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n\
            data: [DONE]\n\n";
        let events = feed(body).unwrap();
        let complete: Vec<(usize, String, String)> = events
            .iter()
            .filter_map(|e| match e {
                StreamChunk::ToolUseComplete { index, tool_call } => Some((
                    *index,
                    tool_call.function.name.clone(),
                    tool_call.function.arguments.clone(),
                )),
                _ => None,
            })
            .collect();
        assert_eq!(
            complete,
            vec![
                (0, "f".into(), "{\"x\":1}".into()),
                (1, "g".into(), "{\"y\":2}".into())
            ]
        );
    }

    #[test]
    fn a_missing_done_a_truncated_event_and_bad_json_are_parse_errors() {
        let complete =
            "data: {\"choices\":[{\"delta\":{\"content\":\"a\"},\"finish_reason\":\"stop\"}]}\n\n";
        for body in [
            complete.to_string(),
            format!("{complete}data: {{\"choices\":[{{\"del"),
            format!("data: not json\n\n{complete}data: [DONE]\n\n"),
        ] {
            let err = feed(&body).unwrap_err();
            assert_eq!(err.kind, PluginErrorKind::ParseError, "{body:?}: {err:?}");
        }
    }

    #[test]
    fn an_error_event_is_an_error() {
        let body = "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n";
        let err = feed(body).unwrap_err();
        assert_eq!(err.kind, PluginErrorKind::ProviderError);
        assert_eq!(err.retryable(), Some(true), "a server_error is transient");
        assert!(err.message.contains("overloaded"));
    }
}
