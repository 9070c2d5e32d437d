//! OpenAI's error envelope `{"error":{message,type,code}}` read into a classified provider
//! failure: the code or type names the kind where OpenAI's dialect has one, the HTTP status
//! otherwise. The kind alone decides whether the host retries.
use modelport_plugin::{PluginError, ProviderErrorKind};
use serde::Deserialize;
use serde_json::Value;

/// OpenAI's `error` object.
#[derive(Debug, Default, Deserialize)]
pub struct Envelope {
    pub message: Option<String>,
    #[serde(rename = "type")]
    pub error_type: Option<String>,
    pub code: Option<Value>,
}

impl Envelope {
    fn code(&self) -> Option<String> {
        self.code.as_ref().map(|code| match code {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        })
    }
}

/// The kind an OpenAI error code or type names, if it names one.
fn named_kind(token: &str) -> Option<ProviderErrorKind> {
    Some(match token {
        "rate_limit_exceeded" | "rate_limit_error" | "too_many_requests" => {
            ProviderErrorKind::RateLimited
        }
        "insufficient_quota" | "billing_hard_limit_reached" => ProviderErrorKind::QuotaExceeded,
        "context_length_exceeded" | "string_above_max_length" => {
            ProviderErrorKind::ContextWindowExceeded
        }
        "invalid_api_key" | "authentication_error" | "permission_error" => {
            ProviderErrorKind::Authentication
        }
        "server_is_overloaded" | "overloaded_error" | "slow_down" => {
            ProviderErrorKind::ServerOverloaded
        }
        "invalid_request_error" | "model_not_found" | "unsupported_parameter" => {
            ProviderErrorKind::InvalidRequest
        }
        "server_error" | "internal_server_error" => ProviderErrorKind::UnknownTransient,
        _ => return None,
    })
}

/// The kind a bare HTTP status stands for.
fn status_kind(status: u16) -> ProviderErrorKind {
    match status {
        429 => ProviderErrorKind::RateLimited,
        401 | 403 => ProviderErrorKind::Authentication,
        400 | 404 | 422 => ProviderErrorKind::InvalidRequest,
        408 | 425 | 500..=599 => ProviderErrorKind::UnknownTransient,
        _ => ProviderErrorKind::UnknownPermanent,
    }
}

/// A provider failure from `envelope` (if the body had one) and the response's `status` (none
/// for an error event in the middle of a stream).
pub fn failure(envelope: &Envelope, status: Option<u16>, fallback: &str) -> PluginError {
    let code = envelope.code();
    // The code is the most specific, then the status (OpenAI's types are broad: a refused key is
    // a 401 of type `invalid_request_error`), then the type (a stream's error event has no status).
    let kind = code
        .as_deref()
        .and_then(named_kind)
        .or(status.map(status_kind))
        .or_else(|| envelope.error_type.as_deref().and_then(named_kind))
        .unwrap_or(ProviderErrorKind::UnknownPermanent);
    let message = envelope
        .message
        .clone()
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| fallback.to_string());
    let mut err = PluginError::provider_failure(kind, message);
    err.code = code;
    err.error_type = envelope.error_type.clone();
    err.status = status;
    err
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn envelope(value: Value) -> Envelope {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn the_code_wins_over_the_status() {
        let quota = failure(
            &envelope(
                json!({"message": "no credit", "type": "insufficient_quota", "code": "insufficient_quota"}),
            ),
            Some(429),
            "",
        );
        assert_eq!(quota.provider_kind, Some(ProviderErrorKind::QuotaExceeded));
        assert_eq!(quota.retryable(), Some(false));
        let limited = failure(&envelope(json!({"message": "slow"})), Some(429), "");
        assert_eq!(limited.provider_kind, Some(ProviderErrorKind::RateLimited));
        assert_eq!(limited.retryable(), Some(true));
    }

    #[test]
    fn bare_statuses_are_classified() {
        for (status, kind) in [
            (401, ProviderErrorKind::Authentication),
            (400, ProviderErrorKind::InvalidRequest),
            (500, ProviderErrorKind::UnknownTransient),
            (418, ProviderErrorKind::UnknownPermanent),
        ] {
            assert_eq!(
                failure(&Envelope::default(), Some(status), "HTTP").provider_kind,
                Some(kind)
            );
        }
    }
}
