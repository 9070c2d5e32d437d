//! The host's reading of a non-2xx response a plugin did not classify itself.
use std::time::{Duration, SystemTime};

use crate::error::{ErrorCode, ModelportError};

const BODY_EXCERPT_CHARS: usize = 500;

/// `AUTH` for 401/403, `RATE_LIMITED` for 429 (with `retry-after-ms` / `retry-after` read),
/// `HTTP_STATUS` otherwise; the message holds the status and an excerpt of the body.
pub fn classify_status(response: &http::Response<Vec<u8>>) -> ModelportError {
    let status = response.status();
    let code = match status.as_u16() {
        401 | 403 => ErrorCode::Auth,
        429 => ErrorCode::RateLimited,
        _ => ErrorCode::HttpStatus,
    };
    let body = String::from_utf8_lossy(response.body());
    let excerpt: String = body.chars().take(BODY_EXCERPT_CHARS).collect();
    let ellipsis = if body.chars().count() > BODY_EXCERPT_CHARS {
        "…"
    } else {
        ""
    };
    let mut err = ModelportError::new(code, format!("HTTP {status}: {}{ellipsis}", excerpt.trim()));
    err.status = Some(status.as_u16());
    err.retry_after_ms = retry_after(response.headers());
    err
}

/// The wait a server asked for: `retry-after-ms`, else `retry-after` in seconds or as an HTTP date.
pub fn retry_after(headers: &http::HeaderMap) -> Option<u64> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = text("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        return Some(ms.max(0.0) as u64);
    }
    let value = text("retry-after")?;
    if let Ok(seconds) = value.parse::<f64>() {
        return Some((seconds.max(0.0) * 1000.0) as u64);
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO)
            .as_millis() as u64,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> http::Response<Vec<u8>> {
        let mut builder = http::Response::builder().status(status);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(body.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn statuses_map_to_codes() {
        assert_eq!(
            classify_status(&response(401, &[], "")).code,
            ErrorCode::Auth
        );
        assert_eq!(
            classify_status(&response(429, &[], "")).code,
            ErrorCode::RateLimited
        );
        let err = classify_status(&response(500, &[], "{\"error\":\"boom\"}"));
        assert_eq!(err.code, ErrorCode::HttpStatus);
        assert_eq!(err.status, Some(500));
        assert!(err.message.contains("boom"));
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(
            classify_status(&response(429, &[("retry-after-ms", "250")], "")).retry_after_ms,
            Some(250)
        );
        assert_eq!(
            classify_status(&response(429, &[("retry-after", "2")], "")).retry_after_ms,
            Some(2000)
        );
        assert_eq!(
            classify_status(&response(
                429,
                &[("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT")],
                ""
            ))
            .retry_after_ms,
            Some(0)
        );
    }

    #[test]
    fn long_bodies_are_cut() {
        let err = classify_status(&response(500, &[], &"x".repeat(5000)));
        assert!(err.message.len() < 700);
        assert!(err.message.ends_with('…'));
    }
}
