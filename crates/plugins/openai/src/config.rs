//! The plugin's config and its JSON Schema.
use modelport_plugin::PluginError;
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// OpenAI's public endpoint, used when `base_url` is not set.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// Settings of one provider instance.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenAIConfig {
    pub api_key: Option<String>,
    pub base_url: Option<String>,
    pub model: Option<String>,
    pub embedding_model: Option<String>,
    pub transcription_model: Option<String>,
    pub speech_model: Option<String>,
    pub voice: Option<String>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub stop: Option<Vec<String>>,
    pub seed: Option<i64>,
    pub response_format: Option<Value>,
    pub system: Option<SystemPrompt>,
    pub tool_choice: Option<Value>,
    pub reasoning_effort: Option<String>,
    pub stream_usage: Option<bool>,
    pub organization: Option<String>,
    #[serde(default)]
    pub extra_headers: Map<String, Value>,
    pub extra_body: Option<Map<String, Value>>,
}

/// One system prompt or several.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum SystemPrompt {
    One(String),
    Many(Vec<String>),
}

impl SystemPrompt {
    pub fn prompts(&self) -> Vec<&str> {
        match self {
            SystemPrompt::One(text) => vec![text.as_str()],
            SystemPrompt::Many(texts) => texts.iter().map(String::as_str).collect(),
        }
    }
}

impl OpenAIConfig {
    pub fn parse(text: &str) -> Result<Self, PluginError> {
        serde_json::from_str(text)
            .map_err(|err| PluginError::invalid_request(format!("bad openai config: {err}")))
    }

    /// `base_url` without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.base_url
            .as_deref()
            .unwrap_or(DEFAULT_BASE_URL)
            .trim_end_matches('/')
    }

    pub fn model(&self) -> Result<&str, PluginError> {
        self.model.as_deref().ok_or_else(|| {
            PluginError::invalid_request(
                "no model set: give `model` in the config or builder.model()",
            )
        })
    }
}

/// JSON Schema of [`OpenAIConfig`].
pub fn schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "openai provider config",
        "type": "object",
        "properties": {
            "api_key": { "type": "string", "description": "API key; read from OPENAI_API_KEY when absent" },
            "base_url": { "type": "string", "pattern": "^https?://", "description": "Endpoint root, e.g. https://api.openai.com/v1" },
            "model": { "type": "string", "minLength": 1, "description": "Chat / completion model" },
            "embedding_model": { "type": "string", "minLength": 1, "description": "Embedding model (defaults to `model`)" },
            "transcription_model": { "type": "string", "minLength": 1, "description": "Speech-to-text model (default whisper-1)" },
            "speech_model": { "type": "string", "minLength": 1, "description": "Text-to-speech model (default tts-1)" },
            "voice": { "type": "string", "minLength": 1, "description": "Text-to-speech voice (default alloy)" },
            "max_tokens": { "type": "integer", "minimum": 1 },
            "temperature": { "type": "number", "minimum": 0, "maximum": 2 },
            "top_p": { "type": "number", "minimum": 0, "maximum": 1 },
            "stop": { "type": "array", "items": { "type": "string" }, "maxItems": 4 },
            "seed": { "type": "integer" },
            "response_format": {
                "type": "object",
                "required": ["type"],
                "description": "OpenAI's response_format: {type: text | json_object | json_schema, json_schema?}"
            },
            "system": {
                "oneOf": [
                    { "type": "string" },
                    { "type": "array", "items": { "type": "string" } }
                ]
            },
            "tool_choice": {
                "oneOf": [
                    { "enum": ["auto", "none", "required"] },
                    { "type": "object", "required": ["type", "function"] }
                ]
            },
            "reasoning_effort": { "enum": ["minimal", "low", "medium", "high"] },
            "stream_usage": { "type": "boolean", "description": "Ask for token usage in streams (stream_options.include_usage; default true)" },
            "organization": { "type": "string" },
            "extra_headers": { "type": "object", "additionalProperties": { "type": "string" } },
            "extra_body": { "type": "object" }
        },
        "additionalProperties": false
    })
}
