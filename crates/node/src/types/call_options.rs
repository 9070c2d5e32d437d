//! The facade's per-call options → the core's `CallOptions`.
use std::time::Duration;

use std::collections::HashMap;

use modelport_core::{CallOptions, CallParams, ErrorCode, ModelportError, ResponseFormat};
use napi_derive::napi;
use serde_json::{Value, json};

use crate::call_token;

#[napi(object)]
#[derive(Default)]
pub struct BindingCallOptions {
    /// The number of the abort token from `newCall()`.
    pub call_id: Option<u32>,
    /// Deadline of the whole call in ms (for a stream: until it ends).
    pub timeout_ms: Option<u32>,
    /// Retries for this call (overrides the provider's `max_retries`).
    pub max_retries: Option<u32>,
    /// `'auto' | 'none' | 'required' | { name }` (or OpenAI's `{ type: 'function', function: { name } }`).
    pub tool_choice: Option<Value>,
    pub temperature: Option<f64>,
    pub max_output_tokens: Option<u32>,
    pub top_p: Option<f64>,
    pub top_k: Option<u32>,
    pub stop_sequences: Option<Vec<String>>,
    pub seed: Option<i64>,
    pub response_format: Option<BindingResponseFormat>,
    /// Extra HTTP headers for the upstream request.
    pub headers: Option<HashMap<String, String>>,
    /// Other config keys the plugin's schema accepts, for this call.
    pub parameters: Option<HashMap<String, Value>>,
}

/// The answer's shape: `kind` is `text`, `json` or `jsonSchema` (then `schema` is required).
#[napi(object)]
pub struct BindingResponseFormat {
    pub kind: String,
    pub schema: Option<Value>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub strict: Option<bool>,
}

impl BindingResponseFormat {
    fn into_core(self) -> Result<ResponseFormat, ModelportError> {
        match (self.kind.as_str(), self.schema) {
            ("text", _) => Ok(ResponseFormat::Text),
            ("json", _) => Ok(ResponseFormat::Json),
            ("jsonSchema", Some(schema)) if schema.is_object() => Ok(ResponseFormat::JsonSchema {
                name: self.name.unwrap_or_else(|| "response".into()),
                description: self.description,
                schema,
                strict: self.strict,
            }),
            (kind, _) => Err(ModelportError::new(
                ErrorCode::InvalidRequest,
                format!(
                    "responseFormat must be 'text', 'json' or {{ schema: <a JSON Schema object> }}, got kind {kind:?}"
                ),
            )),
        }
    }
}

/// A facade tool choice in the wire shape plugins take (OpenAI's).
fn tool_choice(choice: Value) -> Result<Value, ModelportError> {
    match &choice {
        Value::String(mode) if ["auto", "none", "required"].contains(&mode.as_str()) => Ok(choice),
        Value::Object(map) if map.contains_key("function") => Ok(choice),
        Value::Object(map) => match map.get("name").and_then(Value::as_str) {
            Some(name) => Ok(json!({"type": "function", "function": {"name": name}})),
            None => Err(bad_choice(&choice)),
        },
        _ => Err(bad_choice(&choice)),
    }
}

fn bad_choice(choice: &Value) -> ModelportError {
    ModelportError::new(
        ErrorCode::InvalidRequest,
        format!("toolChoice must be 'auto', 'none', 'required' or {{ name }}, got {choice}"),
    )
}

impl BindingCallOptions {
    /// The core options, with the call's `system` messages.
    pub fn into_core(self, system: Vec<String>) -> Result<CallOptions, ModelportError> {
        let params = CallParams {
            system,
            tool_choice: self.tool_choice.map(tool_choice).transpose()?,
            temperature: self.temperature,
            max_output_tokens: self.max_output_tokens,
            top_p: self.top_p,
            top_k: self.top_k,
            stop_sequences: self.stop_sequences,
            seed: self.seed,
            response_format: self
                .response_format
                .map(BindingResponseFormat::into_core)
                .transpose()?,
            headers: self.headers.unwrap_or_default().into_iter().collect(),
            parameters: self.parameters.unwrap_or_default().into_iter().collect(),
        };
        Ok(CallOptions {
            params,
            max_retries: self.max_retries,
            timeout: self.timeout_ms.map(|ms| Duration::from_millis(ms.into())),
            abort: call_token::token(self.call_id),
        })
    }
}
