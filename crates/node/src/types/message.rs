//! The facade's messages (`{role, content, toolCalls, toolCallId}`, camelCase) and tools as
//! napi objects → the shared `ChatMessage` / `Tool` types. The TypeScript facade's `Message` and
//! `ToolDefinition` must be assignable to the generated `BindingMessage` / `BindingTool`: the
//! type checker keeps the two sides in step.
use modelport_core::sdk::{ChatMessage, ChatRole, Content, Tool};
use modelport_core::{ErrorCode, ModelportError};
use napi::Either;
use napi::bindgen_prelude::{Either3, Null};
use napi_derive::napi;
use serde_json::Value;

/// Who wrote a message.
#[napi(string_enum = "lowercase")]
pub enum BindingRole {
    System,
    User,
    Assistant,
    Tool,
}

/// One message of a conversation.
#[napi(object, object_to_js = false)]
pub struct BindingMessage {
    pub role: BindingRole,
    /// Text, or content parts (`null` as in an assistant message that only calls tools).
    #[napi(ts_type = "string | Array<BindingPart> | null")]
    pub content: Option<Either3<String, Vec<BindingPart>, Null>>,
    /// An assistant message's tool calls.
    pub tool_calls: Option<Vec<BindingAssistantToolCall>>,
    /// A tool message: the call it answers.
    pub tool_call_id: Option<String>,
    /// A tool message: the tool's name.
    pub name: Option<String>,
    /// A tool message: whether the tool failed.
    pub is_error: Option<bool>,
}

/// A content part; binary `data` is base64.
#[napi(
    discriminant = "type",
    discriminant_case = "camelCase",
    object_to_js = false
)]
pub enum BindingPart {
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
        /// JSON text or an already-parsed value.
        arguments: Value,
    },
    ToolResult {
        id: String,
        name: Option<String>,
        is_error: Option<bool>,
        content: Either<String, Vec<BindingPart>>,
    },
}

/// A tool call an assistant made, passed back in the conversation.
#[napi(object, object_to_js = false)]
pub struct BindingAssistantToolCall {
    pub id: String,
    pub name: String,
    /// JSON text (as models produce it) or an already-parsed object.
    pub arguments: Value,
}

/// A tool the model may call: `{ name, description?, parameters? }`, or OpenAI's
/// `{ type: 'function', function: { name, description?, parameters } }`.
#[napi(object, object_to_js = false)]
pub struct BindingTool {
    pub name: Option<String>,
    pub description: Option<String>,
    pub parameters: Option<Value>,
    #[napi(js_name = "type")]
    pub kind: Option<String>,
    pub function: Option<BindingFunctionTool>,
}

/// The function of an OpenAI-shaped tool.
#[napi(object, object_to_js = false)]
pub struct BindingFunctionTool {
    pub name: String,
    pub description: Option<String>,
    pub parameters: Option<Value>,
}

type BindingContent = Either<String, Vec<BindingPart>>;

/// A message's content, `null` read as absent.
fn content_of(content: Option<Either3<String, Vec<BindingPart>, Null>>) -> Option<BindingContent> {
    match content? {
        Either3::A(text) => Some(Either::A(text)),
        Either3::B(parts) => Some(Either::B(parts)),
        Either3::C(Null) => None,
    }
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

fn parts(content: BindingContent, at: &str) -> Result<Vec<Content>, ModelportError> {
    match content {
        Either::A(text) => Ok(vec![Content::Text { text }]),
        Either::B(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, part)| {
                let at = format!("{at}.content[{i}]");
                Ok(match part {
                    BindingPart::Text { text } => Content::Text { text },
                    BindingPart::Image { mime_type, data } => Content::Image {
                        mime_type,
                        data: base64_bytes(&data, &at)?,
                    },
                    BindingPart::ImageUrl { url } => Content::ImageUrl { url },
                    BindingPart::Pdf { data } => Content::Pdf {
                        data: base64_bytes(&data, &at)?,
                    },
                    BindingPart::Audio { mime_type, data } => Content::Audio {
                        mime_type,
                        data: base64_bytes(&data, &at)?,
                    },
                    BindingPart::Thinking { text, signature } => {
                        Content::Thinking { text, signature }
                    }
                    BindingPart::ToolUse {
                        id,
                        name,
                        arguments,
                    } => Content::ToolUse {
                        id,
                        name,
                        arguments: parse_arguments(arguments, &at)?,
                    },
                    BindingPart::ToolResult {
                        id,
                        name,
                        is_error,
                        content,
                    } => Content::ToolResult {
                        id,
                        name,
                        is_error: is_error.unwrap_or(false),
                        content: parts(content, &at)?,
                    },
                })
            })
            .collect(),
    }
}

fn text_of(content: Option<BindingContent>, at: &str) -> Result<String, ModelportError> {
    let parts = parts(content.unwrap_or(Either::A(String::new())), at)?;
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
pub fn conversation(
    messages: Vec<BindingMessage>,
) -> Result<(Vec<ChatMessage>, Vec<String>), ModelportError> {
    let mut out: Vec<ChatMessage> = Vec::with_capacity(messages.len());
    let mut system = Vec::new();
    let mut last_was_tool = false;
    for (index, message) in messages.into_iter().enumerate() {
        let at = format!("messages[{index}]");
        let is_tool = matches!(message.role, BindingRole::Tool);
        match message.role {
            BindingRole::System => system.push(text_of(content_of(message.content), &at)?),
            BindingRole::User => out.push(ChatMessage {
                role: ChatRole::User,
                content: parts(
                    content_of(message.content).unwrap_or(Either::A(String::new())),
                    &at,
                )?,
            }),
            BindingRole::Assistant => {
                let mut content = match content_of(message.content) {
                    Some(content) => parts(content, &at)?,
                    None => Vec::new(),
                };
                content.retain(|part| !matches!(part, Content::Text { text } if text.is_empty()));
                for call in message.tool_calls.unwrap_or_default() {
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
            BindingRole::Tool => {
                let id = message
                    .tool_call_id
                    .ok_or_else(|| invalid(format!("{at}: a tool message needs toolCallId")))?;
                let content = parts(
                    content_of(message.content).unwrap_or(Either::A(String::new())),
                    &at,
                )?;
                let result = Content::ToolResult {
                    id,
                    name: message.name,
                    is_error: message.is_error.unwrap_or(false),
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
pub fn tools(list: Option<Vec<BindingTool>>) -> Result<Option<Vec<Tool>>, ModelportError> {
    let Some(list) = list else {
        return Ok(None);
    };
    list.into_iter()
        .enumerate()
        .map(
            |(index, tool)| match (tool.kind.as_deref(), tool.function, tool.name) {
                (Some("function"), Some(function), _) => Ok(Tool::function(
                    function.name,
                    function.description.unwrap_or_default(),
                    function.parameters.unwrap_or_else(empty_schema),
                )),
                (None, None, Some(name)) => Ok(Tool::function(
                    name,
                    tool.description.unwrap_or_default(),
                    tool.parameters.unwrap_or_else(empty_schema),
                )),
                _ => Err(invalid(format!(
                    "tools[{index}]: a tool is {{ name, description?, parameters? }} or \
                 {{ type: 'function', function: {{ name, description?, parameters }} }}"
                ))),
            },
        )
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}
