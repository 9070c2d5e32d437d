//! The error a plugin reports, in QueryMT's error payload shape (`LLMErrorPayload`):
//! `{"type":"provider_error","message":…,"kind":"rate_limited","code":…,"error_type":…,
//! "request_id":…,"retry_after_secs":3}`. A Wasm plugin fails a call with this JSON wrapped in
//! `{"payload":…}`; a native plugin returns it. For a provider failure, whether to retry is read
//! from `kind` alone, as in QueryMT.
use serde::{Deserialize, Serialize};

/// The payload's `type`: what kind of failure. Each maps to a `ModelportError` code. Names are
/// QueryMT's; the aliases read modelport's earlier names and QueryMT's near-synonyms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginErrorKind {
    /// The provider answered with an error of its own; `kind` classifies it.
    ProviderError,
    /// The provider asked us to slow down.
    RateLimited,
    /// Credentials are missing or refused.
    AuthError,
    /// The request was malformed (bad config, bad messages, bad tools, bad URL).
    #[serde(alias = "tool_config_error", alias = "invalid_url")]
    InvalidRequest,
    /// A response could not be understood.
    #[serde(
        rename = "response_format_error",
        alias = "parse_error",
        alias = "json_error"
    )]
    ParseError,
    /// The plugin does not offer this operation.
    #[serde(rename = "not_implemented", alias = "unsupported")]
    Unsupported,
    /// An HTTP status the plugin did not classify further (`status_code`).
    #[serde(rename = "http_status", alias = "http_error")]
    HttpError,
    /// The network failed (connection, TLS, DNS, I/O).
    #[serde(alias = "io_error", alias = "remote_stream_disconnected")]
    Transport,
    /// The call was cancelled.
    Cancelled,
    /// The plugin itself failed.
    PluginError,
    /// Anything else (QueryMT's `generic_error`, and any type this SDK does not know).
    #[serde(rename = "generic_error", other)]
    Other,
}

/// How a provider failure is classified (QueryMT's `ProviderErrorKind`): the only source of
/// whether it is worth retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderErrorKind {
    /// The provider is overloaded (retried).
    ServerOverloaded,
    /// Too many requests (retried).
    RateLimited,
    /// The account's quota or plan limit is used up (not retried).
    QuotaExceeded,
    /// The conversation is longer than the model's context window (not retried).
    ContextWindowExceeded,
    /// Credentials are missing or refused (not retried).
    Authentication,
    /// The request was refused as malformed (not retried).
    InvalidRequest,
    /// The provider does not offer the operation (not retried).
    UnsupportedOperation,
    /// An unclassified failure that is likely transient, such as a bare 5xx (retried).
    UnknownTransient,
    /// An unclassified failure that is likely permanent (not retried); also any kind this SDK
    /// does not know.
    #[serde(other)]
    UnknownPermanent,
}

impl ProviderErrorKind {
    /// Whether a failure of this kind is worth another attempt (QueryMT's policy).
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            Self::ServerOverloaded | Self::RateLimited | Self::UnknownTransient
        )
    }
}

/// A failure reported by plugin code, with enough context to act on. One pointer wide (results
/// cross the plugin boundary by value); its fields are read and set through `Deref`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PluginError(Box<PluginErrorDetails>);

/// What a [`PluginError`] carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginErrorDetails {
    /// The kind of failure (`type`).
    #[serde(rename = "type")]
    pub kind: PluginErrorKind,
    /// A human-readable description.
    #[serde(default)]
    pub message: String,
    /// A provider failure's classification (`kind`), which decides whether it is retried.
    #[serde(
        rename = "kind",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "provider_kind"
    )]
    pub provider_kind: Option<ProviderErrorKind>,
    /// The provider's own error code (`rate_limit_exceeded`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The provider's own error type (`invalid_request_error`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    /// The provider's request id, for support tickets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The HTTP status behind the failure, when there was one.
    #[serde(
        rename = "status_code",
        alias = "status",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub status: Option<u16>,
    /// How long the provider asked us to wait before retrying, in seconds (QueryMT's field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    /// The same wait in milliseconds, when the provider said it that precisely (a modelport
    /// extension; preferred over `retry_after_secs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// The response that could not be understood (`response_format_error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_response: Option<String>,
}

/// `kind` is a `ProviderErrorKind` on a provider error but a transport kind (`timeout`, …) on a
/// transport error: a value that is not a string reads as none rather than failing the payload.
fn provider_kind<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<ProviderErrorKind>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(deserializer)?;
    Ok(value.and_then(|value| serde_json::from_value(value).ok()))
}

impl PluginError {
    /// An error of `kind` with `message`.
    pub fn new(kind: PluginErrorKind, message: impl Into<String>) -> Self {
        Self(Box::new(PluginErrorDetails {
            kind,
            message: message.into(),
            provider_kind: None,
            code: None,
            error_type: None,
            request_id: None,
            status: None,
            retry_after_secs: None,
            retry_after_ms: None,
            raw_response: None,
        }))
    }

    /// A provider-side error classified as `kind` (QueryMT's `ProviderFailure`).
    pub fn provider_failure(kind: ProviderErrorKind, message: impl Into<String>) -> Self {
        let mut err = Self::new(PluginErrorKind::ProviderError, message);
        err.provider_kind = Some(kind);
        err
    }

    /// A provider-side error, unclassified (not retried).
    pub fn provider(message: impl Into<String>) -> Self {
        Self::new(PluginErrorKind::ProviderError, message)
    }

    /// An unparseable response.
    pub fn parse(message: impl Into<String>) -> Self {
        Self::new(PluginErrorKind::ParseError, message)
    }

    /// A bad request or config.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(PluginErrorKind::InvalidRequest, message)
    }

    /// An operation this plugin does not offer.
    pub fn unsupported(operation: &str) -> Self {
        Self::new(
            PluginErrorKind::Unsupported,
            format!("this plugin does not support {operation}"),
        )
    }

    /// Attaches the HTTP status behind the failure.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// The wait the provider asked for, in milliseconds, from either field.
    pub fn retry_after_millis(&self) -> Option<u64> {
        self.retry_after_ms
            .or_else(|| self.retry_after_secs.map(|secs| secs.saturating_mul(1000)))
    }

    /// Whether the plugin said another attempt could succeed: known for a classified provider
    /// failure (from its `kind`), unknown otherwise.
    pub fn retryable(&self) -> Option<bool> {
        match self.kind {
            PluginErrorKind::ProviderError => Some(
                self.provider_kind
                    .is_some_and(ProviderErrorKind::is_retryable),
            ),
            _ => None,
        }
    }
}

impl std::ops::Deref for PluginError {
    type Target = PluginErrorDetails;

    fn deref(&self) -> &PluginErrorDetails {
        &self.0
    }
}

impl std::ops::DerefMut for PluginError {
    fn deref_mut(&mut self) -> &mut PluginErrorDetails {
        &mut self.0
    }
}

impl std::fmt::Display for PluginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

impl std::error::Error for PluginError {}

impl From<serde_json::Error> for PluginError {
    fn from(err: serde_json::Error) -> Self {
        Self::parse(err.to_string())
    }
}

impl From<http::Error> for PluginError {
    fn from(err: http::Error) -> Self {
        Self::invalid_request(format!("could not build the HTTP request: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_querymt_provider_payloads() {
        let err: PluginError = serde_json::from_value(json!({
            "type": "provider_error", "message": "slow down", "kind": "rate_limited",
            "code": "rate_limit_exceeded", "error_type": "requests", "retry_after_secs": 3
        }))
        .unwrap();
        assert_eq!(err.kind, PluginErrorKind::ProviderError);
        assert_eq!(err.provider_kind, Some(ProviderErrorKind::RateLimited));
        assert_eq!(err.retryable(), Some(true));
        assert_eq!(err.retry_after_millis(), Some(3000));
        let unknown: PluginError = serde_json::from_value(
            json!({"type": "provider_error", "message": "?", "kind": "brand_new"}),
        )
        .unwrap();
        assert_eq!(
            unknown.provider_kind,
            Some(ProviderErrorKind::UnknownPermanent)
        );
        assert_eq!(unknown.retryable(), Some(false));
    }

    #[test]
    fn reads_every_querymt_type() {
        for (kind, expected) in [
            (json!({"type": "cancelled"}), PluginErrorKind::Cancelled),
            (
                json!({"type": "transport", "kind": "timeout", "message": "t"}),
                PluginErrorKind::Transport,
            ),
            (
                json!({"type": "http_status", "status_code": 503, "message": "m", "retry_after_secs": null}),
                PluginErrorKind::HttpError,
            ),
            (
                json!({"type": "response_format_error", "message": "m", "raw_response": "<"}),
                PluginErrorKind::ParseError,
            ),
            (
                json!({"type": "json_error", "message": "m"}),
                PluginErrorKind::ParseError,
            ),
            (
                json!({"type": "not_implemented", "message": "m"}),
                PluginErrorKind::Unsupported,
            ),
            (
                json!({"type": "something_new", "message": "m"}),
                PluginErrorKind::Other,
            ),
        ] {
            let err: PluginError = serde_json::from_value(kind.clone()).unwrap();
            assert_eq!(err.kind, expected, "{kind}");
        }
    }

    #[test]
    fn writes_querymt_names() {
        let err = PluginError::provider_failure(ProviderErrorKind::ServerOverloaded, "busy");
        assert_eq!(
            serde_json::to_value(&err).unwrap(),
            json!({"type": "provider_error", "message": "busy", "kind": "server_overloaded"})
        );
        assert_eq!(
            serde_json::to_value(PluginError::unsupported("speech")).unwrap()["type"],
            "not_implemented"
        );
    }
}
