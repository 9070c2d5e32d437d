//! `ModelportError` → a JS error the facade turns back into a typed `ModelportError`.
use modelport_core::ModelportError;

/// Marks a serialized `ModelportError` at the start of a JS error's message.
pub const ERROR_PREFIX: &str = "MODELPORT_ERROR:";

/// Encodes `err` so the TypeScript facade can rebuild it with every field.
pub fn to_napi(mut err: ModelportError) -> napi::Error {
    let retryable = modelport_core::retry::is_retryable(&err);
    err.retryable = Some(retryable);
    let json = serde_json::to_string(&err).unwrap_or_else(|_| {
        format!(
            "{{\"code\":\"PROVIDER_ERROR\",\"message\":{:?}}}",
            err.to_string()
        )
    });
    napi::Error::new(
        napi::Status::GenericFailure,
        format!("{ERROR_PREFIX}{json}"),
    )
}

/// Wraps a core result for napi.
pub fn napi_result<T>(result: Result<T, ModelportError>) -> napi::Result<T> {
    result.map_err(to_napi)
}
