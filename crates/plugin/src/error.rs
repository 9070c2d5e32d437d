//! The error a plugin reports, shaped like QueryMT's error payload `{"type":…,"message":…}`.
use serde::{Deserialize, Serialize};

/// What kind of failure a plugin reports; the host maps each to a `ModelportError` code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginErrorKind {
    /// The provider answered with an error of its own.
    ProviderError,
    /// The provider asked us to slow down.
    RateLimited,
    /// Credentials are missing or refused.
    AuthError,
    /// The request was malformed (bad config, bad messages).
    InvalidRequest,
    /// A response could not be understood.
    ParseError,
    /// The plugin does not offer this operation.
    Unsupported,
    /// An HTTP status the plugin did not classify further.
    HttpError,
    /// Anything else.
    #[serde(other)]
    Other,
}

/// A failure reported by plugin code, with enough context to act on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginError {
    /// The kind of failure.
    #[serde(rename = "type")]
    pub kind: PluginErrorKind,
    /// A human-readable description.
    pub message: String,
    /// The HTTP status behind the failure, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// How long the provider asked us to wait before retrying, when it said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl PluginError {
    /// An error of `kind` with `message`.
    pub fn new(kind: PluginErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            status: None,
            retry_after_ms: None,
        }
    }

    /// A provider-side error.
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
