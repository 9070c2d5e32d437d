//! Chat messages and their content parts, serde-exact to QueryMT's JSON shapes.
use serde::{Deserialize, Serialize};

/// Who wrote a message. QueryMT's wire format knows only these two roles: system prompts travel in
/// the provider's config, and tool results travel as `tool_result` content in a `User` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChatRole {
    /// The person (or the application) talking to the model; also carries tool results.
    User,
    /// The model.
    Assistant,
}

/// One message of a conversation: `{"role":"User","content":[…]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Who wrote it.
    pub role: ChatRole,
    /// Its parts, in order.
    pub content: Vec<Content>,
}

impl ChatMessage {
    /// A user message holding one text part.
    pub fn user(text: impl Into<String>) -> Self {
        Self {
            role: ChatRole::User,
            content: vec![Content::Text { text: text.into() }],
        }
    }

    /// An assistant message holding one text part.
    pub fn assistant(text: impl Into<String>) -> Self {
        Self {
            role: ChatRole::Assistant,
            content: vec![Content::Text { text: text.into() }],
        }
    }

    /// The concatenation of this message's text parts.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(|part| match part {
                Content::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }
}

/// A content part, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Content {
    /// Plain text.
    Text { text: String },
    /// An inline image; `data` is its bytes (a JSON array of numbers on the wire, as QueryMT's).
    Image { mime_type: String, data: Vec<u8> },
    /// An image the provider fetches by URL.
    ImageUrl { url: String },
    /// An inline PDF document: its bytes.
    Pdf { data: Vec<u8> },
    /// Inline audio: its bytes.
    Audio { mime_type: String, data: Vec<u8> },
    /// Model reasoning, echoed back on later turns by providers that need it.
    Thinking {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
    },
    /// A tool call the assistant made; `arguments` is the parsed JSON arguments.
    ToolUse {
        id: String,
        name: String,
        arguments: serde_json::Value,
    },
    /// The result of a tool call, sent back by the user side.
    ToolResult {
        id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default)]
        is_error: bool,
        content: Vec<Content>,
    },
}
