//! `ModelportError` → a JS error the facade turns back into a typed `ModelportError`.
use modelport_core::ModelportError;

/// Marks a serialized `ModelportError` at the start of a JS error's message.
pub const ERROR_PREFIX: &str = "MODELPORT_ERROR:";

/// `err` as the JSON the TypeScript facade rebuilds a `ModelportError` from (`ModelportErrorInfo`),
/// with whether modelport's retry policy would try again.
pub fn error_json(mut err: ModelportError) -> String {
    let retryable = modelport_core::retry::is_retryable(&err);
    err.retryable = Some(retryable);
    serde_json::to_string(&err).unwrap_or_else(|_| {
        format!(
            "{{\"code\":\"PROVIDER_ERROR\",\"message\":{:?}}}",
            err.to_string()
        )
    })
}

/// Encodes `err` in a JS error's message, so the facade can rebuild it with every field.
pub fn to_napi(err: ModelportError) -> napi::Error {
    napi::Error::new(
        napi::Status::GenericFailure,
        format!("{ERROR_PREFIX}{}", error_json(err)),
    )
}

/// Wraps a core result for napi.
pub fn napi_result<T>(result: Result<T, ModelportError>) -> napi::Result<T> {
    result.map_err(to_napi)
}
