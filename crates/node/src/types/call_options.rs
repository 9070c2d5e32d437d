//! The facade's per-call options → the core's `CallOptions`.
use std::time::Duration;

use modelport_core::{CallOptions, ErrorCode, ModelportError};
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
        Ok(CallOptions {
            system,
            tool_choice: self.tool_choice.map(tool_choice).transpose()?,
            max_retries: self.max_retries,
            timeout: self.timeout_ms.map(|ms| Duration::from_millis(ms.into())),
            abort: call_token::token(self.call_id),
        })
    }
}
