//! The facade's messages (`{role, content, toolCalls, toolCallId}`, camelCase) and tools →
//! the shared `ChatMessage` / `Tool` types.
use modelport_core::sdk::{ChatMessage, ChatRole, Content, Tool};
use modelport_core::{ErrorCode, ModelportError};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum JsRole {
    System,
    User,
    Assistant,
    Tool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct JsMessage {
    role: JsRole,
    #[serde(default)]
    content: Option<JsContent>,
    #[serde(default)]
    tool_calls: Vec<JsToolCall>,
    tool_call_id: Option<String>,
    name: Option<String>,
    #[serde(default)]
    is_error: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum JsContent {
    Text(String),
    Parts(Vec<JsPart>),
}

#[derive(Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
enum JsPart {
    Text {
        text: String,
    },
    Image {
        mime_type: String,
        data: String,
    },
    ImageUrl {
        url: String,
    },
    Pdf {
        data: String,
    },
    Audio {
        mime_type: String,
        data: String,
    },
    Thinking {
        text: String,
        signature: Option<String>,
    },
    ToolUse {
        id: String,
        name: String,
        arguments: Value,
    },
    ToolResult {
        id: String,
        name: Option<String>,
        #[serde(default)]
        is_error: bool,
        content: JsContent,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsToolCall {
    id: String,
    name: String,
    /// JSON text (as models produce it) or an already-parsed object.
    arguments: Value,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum JsTool {
    /// `{ name, description?, parameters }`.
    Plain {
        name: String,
        #[serde(default)]
        description: String,
        #[serde(default = "empty_schema")]
        parameters: Value,
    },
    /// OpenAI's `{ type: 'function', function: {…} }`.
    Wire(Tool),
}

fn empty_schema() -> Value {
    serde_json::json!({"type": "object", "properties": {}})
}

fn invalid(message: impl Into<String>) -> ModelportError {
    ModelportError::new(ErrorCode::InvalidRequest, message)
}

fn parse_arguments(arguments: Value, at: &str) -> Result<Value, ModelportError> {
    match arguments {
        Value::String(text) => serde_json::from_str(&text).map_err(|err| {
            invalid(format!(
                "{at}: tool call arguments are not valid JSON: {err}"
            ))
        }),
        other => Ok(other),
    }
}

/// The bytes of a part's base64 `data`.
fn base64_bytes(data: &str, at: &str) -> Result<Vec<u8>, ModelportError> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|err| invalid(format!("{at}.data is not base64: {err}")))
}

fn parts(content: JsContent, at: &str) -> Result<Vec<Content>, ModelportError> {
    match content {
        JsContent::Text(text) => Ok(vec![Content::Text { text }]),
        JsContent::Parts(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, part)| {
                let at = format!("{at}.content[{i}]");
                Ok(match part {
                    JsPart::Text { text } => Content::Text { text },
                    JsPart::Image { mime_type, data } => Content::Image {
                        mime_type,
                        data: base64_bytes(&data, &at)?,
                    },
                    JsPart::ImageUrl { url } => Content::ImageUrl { url },
                    JsPart::Pdf { data } => Content::Pdf {
                        data: base64_bytes(&data, &at)?,
                    },
                    JsPart::Audio { mime_type, data } => Content::Audio {
                        mime_type,
                        data: base64_bytes(&data, &at)?,
                    },
                    JsPart::Thinking { text, signature } => Content::Thinking { text, signature },
                    JsPart::ToolUse {
                        id,
                        name,
                        arguments,
                    } => Content::ToolUse {
                        id,
                        name,
                        arguments: parse_arguments(arguments, &at)?,
                    },
                    JsPart::ToolResult {
                        id,
                        name,
                        is_error,
                        content,
                    } => Content::ToolResult {
                        id,
                        name,
                        is_error,
                        content: parts(content, &at)?,
                    },
                })
            })
            .collect(),
    }
}

fn text_of(content: Option<JsContent>, at: &str) -> Result<String, ModelportError> {
    let parts = parts(content.unwrap_or(JsContent::Text(String::new())), at)?;
    parts
        .into_iter()
        .map(|part| match part {
            Content::Text { text } => Ok(text),
            _ => Err(invalid(format!("{at}: system messages hold text only"))),
        })
        .collect()
}

/// Splits the facade's messages into the conversation and its system prompts. Consecutive `tool`
/// messages become one user message of `tool_result` parts, as QueryMT's wire format has it.
pub fn conversation(messages: Value) -> Result<(Vec<ChatMessage>, Vec<String>), ModelportError> {
    let messages: Vec<JsMessage> =
        serde_json::from_value(messages).map_err(|err| invalid(format!("bad messages: {err}")))?;
    let mut out: Vec<ChatMessage> = Vec::with_capacity(messages.len());
    let mut system = Vec::new();
    let mut last_was_tool = false;
    for (index, message) in messages.into_iter().enumerate() {
        let at = format!("messages[{index}]");
        let is_tool = matches!(message.role, JsRole::Tool);
        match message.role {
            JsRole::System => system.push(text_of(message.content, &at)?),
            JsRole::User => out.push(ChatMessage {
                role: ChatRole::User,
                content: parts(
                    message.content.unwrap_or(JsContent::Text(String::new())),
                    &at,
                )?,
            }),
            JsRole::Assistant => {
                let mut content = match message.content {
                    Some(content) => parts(content, &at)?,
                    None => Vec::new(),
                };
                content.retain(|part| !matches!(part, Content::Text { text } if text.is_empty()));
                for call in message.tool_calls {
                    let arguments = parse_arguments(call.arguments, &at)?;
                    content.push(Content::ToolUse {
                        id: call.id,
                        name: call.name,
                        arguments,
                    });
                }
                out.push(ChatMessage {
                    role: ChatRole::Assistant,
                    content,
                });
            }
            JsRole::Tool => {
                let id = message
                    .tool_call_id
                    .ok_or_else(|| invalid(format!("{at}: a tool message needs toolCallId")))?;
                let content = parts(
                    message.content.unwrap_or(JsContent::Text(String::new())),
                    &at,
                )?;
                let result = Content::ToolResult {
                    id,
                    name: message.name,
                    is_error: message.is_error,
                    content,
                };
                match out.last_mut() {
                    Some(previous) if last_was_tool => previous.content.push(result),
                    _ => out.push(ChatMessage {
                        role: ChatRole::User,
                        content: vec![result],
                    }),
                }
            }
        }
        last_was_tool = is_tool;
    }
    Ok((out, system))
}

/// The facade's tools (plain or OpenAI-shaped) → shared `Tool`s.
pub fn tools(value: Option<Value>) -> Result<Option<Vec<Tool>>, ModelportError> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let tools: Vec<JsTool> =
        serde_json::from_value(value).map_err(|err| invalid(format!("bad tools: {err}")))?;
    Ok(Some(
        tools
            .into_iter()
            .map(|tool| match tool {
                JsTool::Plain {
                    name,
                    description,
                    parameters,
                } => Tool::function(name, description, parameters),
                JsTool::Wire(tool) => tool,
            })
            .collect(),
    ))
}
