//! Errors the host hands to a guest, in QueryMT's payload form: `qmt_http_stream_open` answers a
//! failed open with `{"status":"error","plugin_error":"<payload JSON>","error_code":1}`, which a
//! QueryMT guest decodes and fails its call with.
use modelport_plugin::{PluginError, PluginErrorKind};
use serde_json::{Value, json};

use crate::error::{ErrorCode, ModelportError};

/// QueryMT's code for a structured error (`error_codes::STRUCTURED`).
pub const STRUCTURED: i32 = 1;

/// `err` as the payload a QueryMT guest reads back into the same kind of failure.
pub fn payload_of(err: &ModelportError) -> PluginError {
    let kind = match err.code {
        ErrorCode::Auth => PluginErrorKind::AuthError,
        ErrorCode::RateLimited => PluginErrorKind::RateLimited,
        ErrorCode::HttpStatus => PluginErrorKind::HttpError,
        ErrorCode::InvalidRequest | ErrorCode::HostNotAllowed => PluginErrorKind::InvalidRequest,
        ErrorCode::Transport | ErrorCode::Timeout => PluginErrorKind::Transport,
        ErrorCode::Aborted => PluginErrorKind::Cancelled,
        ErrorCode::ParseError => PluginErrorKind::ParseError,
        ErrorCode::Unsupported => PluginErrorKind::Unsupported,
        _ => PluginErrorKind::Other,
    };
    let mut payload = PluginError::new(kind, err.message.clone());
    payload.status = err.status;
    payload.retry_after_ms = err.retry_after_ms;
    payload.retry_after_secs = err.retry_after_ms.map(|ms| ms.div_ceil(1000));
    payload
}

/// The payload as JSON, with what QueryMT's types require beyond it (a transport `kind`, the
/// `retry_after_secs` and `raw_response` fields that may be null but not absent). The extra
/// `retry_after_ms` (modelport's, ignored by QueryMT) keeps a millisecond wait exact.
fn payload_json(err: &ModelportError) -> Value {
    let mut value = serde_json::to_value(payload_of(err)).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        match map.get("type").and_then(Value::as_str) {
            Some("transport") => {
                let kind = if err.code == ErrorCode::Timeout {
                    "timeout"
                } else {
                    "other"
                };
                map.insert("kind".into(), json!(kind));
            }
            // QueryMT's `http_status` and `rate_limited` have a required `retry_after_secs`
            // (null allowed), `response_format_error` a required `raw_response`.
            Some("http_status" | "rate_limited") => {
                map.entry("retry_after_secs").or_insert(Value::Null);
                map.entry("status_code")
                    .or_insert(json!(err.status.unwrap_or(0)));
            }
            Some("response_format_error") => {
                map.entry("raw_response").or_insert(json!(""));
            }
            _ => {}
        }
        if map.get("type").and_then(Value::as_str) != Some("http_status") {
            map.remove("status_code");
        }
    }
    value
}

/// `{"status":"error","plugin_error":…,"error_code":1}` for a stream that did not open.
pub fn stream_open_error(err: &ModelportError) -> Value {
    let plugin_error = json!({ "payload": payload_json(err) }).to_string();
    json!({"status": "error", "plugin_error": plugin_error, "error_code": STRUCTURED})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_open_errors_carry_querymt_payloads() {
        let mut limited = ModelportError::new(ErrorCode::RateLimited, "HTTP 429: slow down");
        limited.status = Some(429);
        limited.retry_after_ms = Some(1500);
        let answer = stream_open_error(&limited);
        assert_eq!(answer["status"], "error");
        assert_eq!(answer["error_code"], 1);
        let payload: Value =
            serde_json::from_str(answer["plugin_error"].as_str().unwrap()).unwrap();
        assert_eq!(
            payload,
            json!({"payload": {"type": "rate_limited", "message": "HTTP 429: slow down", "retry_after_secs": 2, "retry_after_ms": 1500}})
        );
        let mut server = ModelportError::new(ErrorCode::HttpStatus, "HTTP 500");
        server.status = Some(500);
        let payload: Value =
            serde_json::from_str(stream_open_error(&server)["plugin_error"].as_str().unwrap())
                .unwrap();
        assert_eq!(
            payload["payload"],
            json!({"type": "http_status", "message": "HTTP 500", "status_code": 500, "retry_after_secs": null})
        );
        let timeout = ModelportError::new(ErrorCode::Timeout, "slow");
        let payload: Value = serde_json::from_str(
            stream_open_error(&timeout)["plugin_error"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(payload["payload"]["kind"], "timeout");
    }
}
