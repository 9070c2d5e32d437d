//! `ModelportError`: every failure, with a stable code and the context to act on it.
use std::fmt;

use modelport_plugin::panic_guard::PluginPanic;
use modelport_plugin::{PluginError, PluginErrorKind, ProviderErrorKind};
use serde::Serialize;

/// Stable error codes, shared with the TypeScript `ModelportError.code`. Extend, never rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    ConfigInvalid,
    ConfigSchemaViolation,
    PluginNotFound,
    PluginLoadFailed,
    AbiMismatch,
    PluginPanicked,
    PluginTrapped,
    PluginTimeout,
    PluginOutOfMemory,
    HostNotAllowed,
    HttpStatus,
    RateLimited,
    Auth,
    Transport,
    ParseError,
    ProviderError,
    Aborted,
    Unsupported,
    /// The caller's input (messages, tools, options) is malformed.
    InvalidRequest,
    /// An HTTP request took longer than its configured timeout.
    Timeout,
    /// An HTTP response was larger than the configured cap.
    ResponseTooLarge,
    /// A Wasm plugin's function failed with an error of its own (not a trap).
    PluginError,
    /// A Wasm plugin went over a per-instance limit of its sandbox (open host streams).
    PluginLimitExceeded,
    /// The account's quota or plan limit is used up (not worth retrying soon).
    QuotaExceeded,
    /// The conversation is longer than the model's context window.
    ContextWindowExceeded,
    /// A plugin (seed 004 SDK) is malformed: its manifest, its export or its shape.
    PluginInvalid,
    /// A plugin's SDK version range excludes this modelport's `SDK_VERSION`.
    SdkVersionMismatch,
    /// A plugin's own storage failed (the vector store's database: unreadable, full, locked).
    StorageError,
    /// A host function the user gave a raw plugin threw, or answered what its import cannot take.
    HostFunctionError,
}

impl ErrorCode {
    /// Every code, in declaration order: the list the TypeScript `ErrorCode` type is checked
    /// against (`__test__/contract.spec.ts`).
    pub const ALL: [ErrorCode; 29] = [
        ErrorCode::ConfigInvalid,
        ErrorCode::ConfigSchemaViolation,
        ErrorCode::PluginNotFound,
        ErrorCode::PluginLoadFailed,
        ErrorCode::AbiMismatch,
        ErrorCode::PluginPanicked,
        ErrorCode::PluginTrapped,
        ErrorCode::PluginTimeout,
        ErrorCode::PluginOutOfMemory,
        ErrorCode::HostNotAllowed,
        ErrorCode::HttpStatus,
        ErrorCode::RateLimited,
        ErrorCode::Auth,
        ErrorCode::Transport,
        ErrorCode::ParseError,
        ErrorCode::ProviderError,
        ErrorCode::Aborted,
        ErrorCode::Unsupported,
        ErrorCode::InvalidRequest,
        ErrorCode::Timeout,
        ErrorCode::ResponseTooLarge,
        ErrorCode::PluginError,
        ErrorCode::PluginLimitExceeded,
        ErrorCode::QuotaExceeded,
        ErrorCode::ContextWindowExceeded,
        ErrorCode::PluginInvalid,
        ErrorCode::SdkVersionMismatch,
        ErrorCode::StorageError,
        ErrorCode::HostFunctionError,
    ];

    /// The code as it appears in TypeScript, e.g. `"PLUGIN_LOAD_FAILED"`.
    pub fn as_str(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default()
    }
}

/// A failure anywhere in modelport. Serialized (camelCase) to build the TypeScript error.
/// One pointer wide, so `Result<T>` stays small on hot paths; fields are read through `Deref`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct ModelportError(Box<ErrorDetails>);

/// What a [`ModelportError`] carries.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetails {
    /// What kind of failure.
    pub code: ErrorCode,
    /// What happened, for people.
    pub message: String,
    /// The plugin involved, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
    /// The file involved (config file or plugin library), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// JSON Pointer into the offending config, for schema violations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json_path: Option<String>,
    /// 1-based line in `path`, for config syntax errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column in `path`, for config syntax errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// HTTP status behind the failure, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// How long the provider asked to wait before retrying, if it said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// Whether another attempt could succeed, where the plugin said so (a classified provider
    /// failure); otherwise modelport's policy decides from the code and status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retryable: Option<bool>,
    /// The underlying causes, outermost first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<String>,
}

/// modelport's result type.
pub type Result<T, E = ModelportError> = std::result::Result<T, E>;

impl ModelportError {
    /// An error with `code` and `message` and no context yet.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self(Box::new(ErrorDetails {
            code,
            message: message.into(),
            plugin: None,
            path: None,
            json_path: None,
            line: None,
            column: None,
            status: None,
            retry_after_ms: None,
            retryable: None,
            causes: Vec::new(),
        }))
    }

    /// Names the plugin involved (kept if already set).
    pub fn with_plugin(mut self, plugin: impl Into<String>) -> Self {
        self.plugin.get_or_insert_with(|| plugin.into());
        self
    }

    /// The JSON path of the offending value (a config key, a manifest field).
    pub fn with_json_path(mut self, path: impl Into<String>) -> Self {
        self.json_path = Some(path.into());
        self
    }

    /// Names the file involved (kept if already set).
    pub fn with_path(mut self, path: impl AsRef<std::path::Path>) -> Self {
        self.path
            .get_or_insert_with(|| path.as_ref().display().to_string());
        self
    }

    /// Adds an underlying cause.
    pub fn with_cause(mut self, cause: impl fmt::Display) -> Self {
        self.causes.push(cause.to_string());
        self
    }

    /// A plugin's classification of the non-2xx `response`, completed with what the response
    /// says and the classification does not: its status (before the code is chosen: a provider
    /// failure the plugin could not classify is an `HTTP_STATUS`) and the wait the server asked for.
    pub fn from_plugin_response(
        plugin: &str,
        mut err: PluginError,
        response: &http::Response<Vec<u8>>,
    ) -> Self {
        err.status.get_or_insert(response.status().as_u16());
        let mut error = Self::from_plugin_error(plugin, err);
        if error.retry_after_ms.is_none() {
            error.retry_after_ms = crate::http::retry_after(response.headers());
        }
        error
    }

    /// A panic caught inside plugin code during `operation`.
    pub fn plugin_panicked(plugin: &str, operation: &str, panic: PluginPanic) -> Self {
        Self::new(
            ErrorCode::PluginPanicked,
            format!("plugin panicked in {operation}: {panic}"),
        )
        .with_plugin(plugin)
    }

    /// The call was cancelled (by an abort or by closing the registry).
    pub fn aborted(reason: impl Into<String>) -> Self {
        Self::new(ErrorCode::Aborted, reason)
    }

    /// An error a plugin reported (QueryMT's payload), mapped to a code by its `type` and, for a
    /// provider failure, its `kind`, which alone decides whether it is retried.
    pub fn from_plugin_error(plugin: &str, err: PluginError) -> Self {
        let code = match err.kind {
            PluginErrorKind::ProviderError => match err.provider_kind {
                Some(ProviderErrorKind::RateLimited) => ErrorCode::RateLimited,
                Some(ProviderErrorKind::QuotaExceeded) => ErrorCode::QuotaExceeded,
                Some(ProviderErrorKind::ContextWindowExceeded) => ErrorCode::ContextWindowExceeded,
                Some(ProviderErrorKind::Authentication) => ErrorCode::Auth,
                Some(ProviderErrorKind::InvalidRequest) => ErrorCode::InvalidRequest,
                Some(ProviderErrorKind::UnsupportedOperation) => ErrorCode::Unsupported,
                // Unclassified: a status the provider did not explain further.
                Some(ProviderErrorKind::UnknownTransient | ProviderErrorKind::UnknownPermanent)
                    if err.status.is_some() =>
                {
                    ErrorCode::HttpStatus
                }
                Some(
                    ProviderErrorKind::ServerOverloaded
                    | ProviderErrorKind::UnknownTransient
                    | ProviderErrorKind::UnknownPermanent,
                )
                | None => ErrorCode::ProviderError,
            },
            PluginErrorKind::RateLimited => ErrorCode::RateLimited,
            PluginErrorKind::AuthError => ErrorCode::Auth,
            PluginErrorKind::InvalidRequest => ErrorCode::InvalidRequest,
            PluginErrorKind::ParseError => ErrorCode::ParseError,
            PluginErrorKind::Unsupported => ErrorCode::Unsupported,
            PluginErrorKind::HttpError => match err.status {
                Some(401 | 403) => ErrorCode::Auth,
                Some(429) => ErrorCode::RateLimited,
                _ => ErrorCode::HttpStatus,
            },
            PluginErrorKind::Transport => ErrorCode::Transport,
            PluginErrorKind::Cancelled => ErrorCode::Aborted,
            PluginErrorKind::PluginError | PluginErrorKind::Other => ErrorCode::PluginError,
        };
        let message = if err.message.is_empty() {
            format!("the plugin reported {code:?}")
        } else {
            err.message.clone()
        };
        let mut error = Self::new(code, message).with_plugin(plugin);
        error.status = err.status;
        error.retry_after_ms = err.retry_after_millis();
        error.retryable = err.retryable();
        let facts = [
            ("provider code", &err.code),
            ("provider error type", &err.error_type),
            ("request id", &err.request_id),
        ];
        for (name, value) in facts {
            if let Some(value) = value {
                error = error.with_cause(format!("{name}: {value}"));
            }
        }
        error
    }
}

impl fmt::Display for ModelportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.code.as_str())?;
        if let Some(plugin) = &self.plugin {
            write!(f, "plugin '{plugin}': ")?;
        }
        f.write_str(&self.message)?;
        if let Some(path) = &self.path {
            write!(f, " ({path}")?;
            if let (Some(line), Some(column)) = (self.line, self.column) {
                write!(f, ":{line}:{column}")?;
            }
            f.write_str(")")?;
        }
        for cause in &self.causes {
            write!(f, ": {cause}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ModelportError {}

impl std::ops::Deref for ModelportError {
    type Target = ErrorDetails;

    fn deref(&self) -> &ErrorDetails {
        &self.0
    }
}

impl std::ops::DerefMut for ModelportError {
    fn deref_mut(&mut self) -> &mut ErrorDetails {
        &mut self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_code_once_in_order() {
        // A new variant breaks this match until it has a position here, and the loop below
        // until it stands at that position in `ALL`.
        let position = |code: ErrorCode| match code {
            ErrorCode::ConfigInvalid => 0,
            ErrorCode::ConfigSchemaViolation => 1,
            ErrorCode::PluginNotFound => 2,
            ErrorCode::PluginLoadFailed => 3,
            ErrorCode::AbiMismatch => 4,
            ErrorCode::PluginPanicked => 5,
            ErrorCode::PluginTrapped => 6,
            ErrorCode::PluginTimeout => 7,
            ErrorCode::PluginOutOfMemory => 8,
            ErrorCode::HostNotAllowed => 9,
            ErrorCode::HttpStatus => 10,
            ErrorCode::RateLimited => 11,
            ErrorCode::Auth => 12,
            ErrorCode::Transport => 13,
            ErrorCode::ParseError => 14,
            ErrorCode::ProviderError => 15,
            ErrorCode::Aborted => 16,
            ErrorCode::Unsupported => 17,
            ErrorCode::InvalidRequest => 18,
            ErrorCode::Timeout => 19,
            ErrorCode::ResponseTooLarge => 20,
            ErrorCode::PluginError => 21,
            ErrorCode::PluginLimitExceeded => 22,
            ErrorCode::QuotaExceeded => 23,
            ErrorCode::ContextWindowExceeded => 24,
            ErrorCode::PluginInvalid => 25,
            ErrorCode::SdkVersionMismatch => 26,
            ErrorCode::StorageError => 27,
            ErrorCode::HostFunctionError => 28,
        };
        for (index, code) in ErrorCode::ALL.iter().enumerate() {
            assert_eq!(position(*code), index, "{code:?}");
        }
    }

    #[test]
    fn codes_are_screaming_snake_case() {
        assert_eq!(ErrorCode::PluginLoadFailed.as_str(), "PLUGIN_LOAD_FAILED");
        assert_eq!(ErrorCode::Auth.as_str(), "AUTH");
    }

    #[test]
    fn display_names_plugin_path_and_position() {
        let mut err = ModelportError::new(ErrorCode::ConfigInvalid, "expected a table")
            .with_plugin("openai")
            .with_path("/etc/plugins.toml");
        err.line = Some(3);
        err.column = Some(7);
        assert_eq!(
            err.to_string(),
            "CONFIG_INVALID: plugin 'openai': expected a table (/etc/plugins.toml:3:7)"
        );
    }

    #[test]
    fn plugin_error_kinds_map_to_codes() {
        let err = ModelportError::from_plugin_error(
            "p",
            PluginError::new(PluginErrorKind::RateLimited, "slow down"),
        );
        assert_eq!(err.code, ErrorCode::RateLimited);
        assert_eq!(err.plugin.as_deref(), Some("p"));
    }

    #[test]
    fn provider_failures_map_by_kind_and_keep_its_retry_decision() {
        let cases = [
            (
                ProviderErrorKind::ServerOverloaded,
                ErrorCode::ProviderError,
                true,
            ),
            (ProviderErrorKind::RateLimited, ErrorCode::RateLimited, true),
            (
                ProviderErrorKind::QuotaExceeded,
                ErrorCode::QuotaExceeded,
                false,
            ),
            (
                ProviderErrorKind::ContextWindowExceeded,
                ErrorCode::ContextWindowExceeded,
                false,
            ),
            (ProviderErrorKind::Authentication, ErrorCode::Auth, false),
            (
                ProviderErrorKind::InvalidRequest,
                ErrorCode::InvalidRequest,
                false,
            ),
            (
                ProviderErrorKind::UnsupportedOperation,
                ErrorCode::Unsupported,
                false,
            ),
            (
                ProviderErrorKind::UnknownTransient,
                ErrorCode::ProviderError,
                true,
            ),
            (
                ProviderErrorKind::UnknownPermanent,
                ErrorCode::ProviderError,
                false,
            ),
        ];
        for (kind, code, retryable) in cases {
            let mut failure = PluginError::provider_failure(kind, "m");
            failure.retry_after_secs = Some(2);
            failure.code = Some("vendor_code".into());
            let err = ModelportError::from_plugin_error("p", failure);
            assert_eq!(
                (err.code, err.retryable),
                (code, Some(retryable)),
                "{kind:?}"
            );
            assert_eq!(err.retry_after_ms, Some(2000));
            assert_eq!(err.causes, ["provider code: vendor_code"]);
        }
        let mut bare = PluginError::provider_failure(ProviderErrorKind::UnknownTransient, "m");
        bare.status = Some(503);
        let err = ModelportError::from_plugin_error("p", bare);
        assert_eq!(
            (err.code, err.status, err.retryable),
            (ErrorCode::HttpStatus, Some(503), Some(true))
        );
    }
}
