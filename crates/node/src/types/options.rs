//! Builder fields arrive as a plain JS object.
use serde_json::{Map, Value};

use crate::error::to_napi;
use modelport_core::{ErrorCode, ModelportError};

/// The object's entries, or an `INVALID_REQUEST` error when it is not an object.
pub fn object_of(value: Option<Value>) -> napi::Result<Map<String, Value>> {
    match value {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map),
        Some(other) => Err(to_napi(ModelportError::new(
            ErrorCode::InvalidRequest,
            format!("provider options must be an object, got {other}"),
        ))),
    }
}
