//! The scripted plugin's config: rules, a default reply, latency, embedding size.
use modelport_plugin::PluginError;
use serde::Deserialize;
use serde_json::{Value, json};

/// Settings of one scripted provider.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedConfig {
    /// Rules tried in order; the first whose `when_contains` occurs in the input answers.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// The reply when no rule matches; `{{input}}` is the last user text.
    #[serde(default = "default_reply")]
    pub default_reply: String,
    /// Simulated latency of every call.
    #[serde(default)]
    pub latency_ms: u64,
    /// When set, a streamed reply comes word by word, this many milliseconds apart (else its
    /// text is one event).
    pub stream_interval_ms: Option<u64>,
    /// Length of the deterministic embedding vectors.
    #[serde(default = "default_dimensions")]
    pub embedding_dimensions: usize,
    /// What `listModels` returns.
    #[serde(default = "default_models")]
    pub models: Vec<String>,
    /// Accepted so code written for real providers (`builder.model(…)`) runs unchanged; unused.
    #[allow(dead_code)]
    pub model: Option<String>,
    pub api_key: Option<String>,
    /// When set, calls fail with an auth error unless `api_key` equals it.
    pub require_api_key: Option<String>,
    pub system: Option<Value>,
    /// Accepted like `model`; unused.
    #[allow(dead_code)]
    pub temperature: Option<f64>,
    /// Replies are cut to this many words.
    pub max_tokens: Option<u64>,
}

/// One rule: when the input contains `when_contains`, reply, call tools, or fail.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub when_contains: String,
    pub reply: Option<String>,
    #[serde(default)]
    pub tool_calls: Vec<ScriptedToolCall>,
    pub error: Option<PluginError>,
}

/// A tool call a rule makes (only if the tool was offered).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedToolCall {
    pub name: String,
    #[serde(default = "empty_object")]
    pub arguments: Value,
}

fn default_reply() -> String {
    "{{input}}".into()
}

fn default_dimensions() -> usize {
    8
}

fn default_models() -> Vec<String> {
    vec!["scripted-1".into()]
}

fn empty_object() -> Value {
    json!({})
}

impl Rule {
    pub fn matches(&self, input: &str) -> bool {
        input.contains(&self.when_contains)
    }
}

impl ScriptedConfig {
    pub fn parse(text: &str) -> Result<Self, PluginError> {
        serde_json::from_str(text)
            .map_err(|err| PluginError::invalid_request(format!("bad scripted config: {err}")))
    }

    pub fn system_prompts(&self) -> Vec<String> {
        match &self.system {
            Some(Value::String(text)) => vec![text.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// JSON Schema of [`ScriptedConfig`].
pub fn schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "scripted provider config",
        "type": "object",
        "properties": {
            "rules": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "when_contains": { "type": "string" },
                        "reply": { "type": "string" },
                        "tool_calls": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": { "name": { "type": "string" }, "arguments": { "type": "object" } },
                                "required": ["name"],
                                "additionalProperties": false
                            }
                        },
                        "error": {
                            "type": "object",
                            "properties": { "type": { "type": "string" }, "message": { "type": "string" } },
                            "required": ["type", "message"]
                        }
                    },
                    "required": ["when_contains"],
                    "additionalProperties": false
                }
            },
            "default_reply": { "type": "string" },
            "latency_ms": { "type": "integer", "minimum": 0, "maximum": 600000 },
            "stream_interval_ms": { "type": "integer", "minimum": 0, "maximum": 600000 },
            "embedding_dimensions": { "type": "integer", "minimum": 1, "maximum": 65536 },
            "models": { "type": "array", "items": { "type": "string" } },
            "model": { "type": "string" },
            "api_key": { "type": "string" },
            "require_api_key": { "type": "string" },
            "system": { "oneOf": [ { "type": "string" }, { "type": "array", "items": { "type": "string" } } ] },
            "temperature": { "type": "number", "minimum": 0, "maximum": 2 },
            "max_tokens": { "type": "integer", "minimum": 1 }
        },
        "additionalProperties": false
    })
}
