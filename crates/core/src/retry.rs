//! Retrying transient failures: exponential backoff with jitter (backon), honouring the wait a
//! server asked for (`retry-after-ms`, `retry-after`).
use std::future::Future;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};

use crate::error::{ErrorCode, ModelportError, Result};

/// Statuses worth another attempt: timeout, rate limit, and the server errors that are usually
/// transient. 400/401/403/404 and every other status are final.
const RETRYABLE_STATUSES: [u16; 6] = [408, 429, 500, 502, 503, 504];

/// A server asking for a longer wait than this is not waited for: the backoff applies instead.
const LONGEST_HONOURED_WAIT: Duration = Duration::from_secs(60);

/// How a provider retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts after the first (0 = never retry).
    pub max_retries: u32,
    /// Wait before the first retry; doubled each time, plus up to as much again in jitter.
    pub base_delay: Duration,
    /// Longest backoff wait.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
        }
    }
}

/// Whether another attempt could succeed where `err` failed: what the plugin said, where it
/// classified the failure; otherwise by status, or by code when there is none.
pub fn is_retryable(err: &ModelportError) -> bool {
    if let Some(retryable) = err.retryable {
        return retryable;
    }
    match err.status {
        Some(status) => RETRYABLE_STATUSES.contains(&status),
        None => matches!(err.code, ErrorCode::RateLimited | ErrorCode::Transport),
    }
}

impl RetryPolicy {
    /// This policy with a call's own retry limit, if it sets one.
    pub fn with_max_retries(&self, max_retries: Option<u32>) -> Self {
        Self {
            max_retries: max_retries.unwrap_or(self.max_retries),
            ..*self
        }
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retries run out. Dropping the
    /// returned future (an abort) stops at once, also in the middle of a backoff wait.
    pub async fn run<T, F, Fut>(&self, attempt: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        self.run_while(attempt, || true).await
    }

    /// Like [`run`](Self::run), retrying only while `may_retry()` still holds (a stream that has
    /// delivered events cannot be replayed).
    pub async fn run_while<T, F, Fut>(&self, attempt: F, may_retry: impl Fn() -> bool) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        if self.max_retries == 0 {
            let mut attempt = attempt;
            return attempt().await;
        }
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.base_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_retries as usize)
            .with_jitter();
        attempt
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|err: &ModelportError| is_retryable(err) && may_retry())
            .adjust(|err: &ModelportError, backoff: Option<Duration>| {
                // `None` means the retries are used up; keep it so.
                let backoff = backoff?;
                let asked = err
                    .retry_after_ms
                    .map(Duration::from_millis)
                    .filter(|wait| *wait <= LONGEST_HONOURED_WAIT);
                Some(asked.unwrap_or(backoff))
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Instant;

    use super::*;

    fn failure(
        code: ErrorCode,
        status: Option<u16>,
        retry_after_ms: Option<u64>,
    ) -> ModelportError {
        let mut err = ModelportError::new(code, "failed");
        err.status = status;
        err.retry_after_ms = retry_after_ms;
        err
    }

    fn quick(max_retries: u32) -> RetryPolicy {
        RetryPolicy {
            max_retries,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(4),
        }
    }

    #[test]
    fn retryable_statuses_and_codes() {
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(is_retryable(&failure(
                ErrorCode::HttpStatus,
                Some(status),
                None
            )));
        }
        for status in [400, 401, 403, 404, 422] {
            assert!(!is_retryable(&failure(
                ErrorCode::HttpStatus,
                Some(status),
                None
            )));
        }
        assert!(is_retryable(&failure(ErrorCode::RateLimited, None, None)));
        assert!(is_retryable(&failure(ErrorCode::Transport, None, None)));
        assert!(!is_retryable(&failure(ErrorCode::ParseError, None, None)));
        assert!(!is_retryable(&failure(ErrorCode::Auth, Some(401), None)));
    }

    #[test]
    fn the_plugins_classification_overrides_the_status() {
        let mut overloaded = failure(ErrorCode::ProviderError, Some(400), None);
        overloaded.retryable = Some(true);
        assert!(is_retryable(&overloaded));
        let mut quota = failure(ErrorCode::QuotaExceeded, Some(429), None);
        quota.retryable = Some(false);
        assert!(!is_retryable(&quota));
    }

    #[tokio::test]
    async fn retries_up_to_the_limit_then_returns_the_last_error() {
        let attempts = AtomicU32::new(0);
        let result: Result<()> = quick(3)
            .run(|| async {
                attempts.fetch_add(1, Ordering::SeqCst);
                Err(failure(ErrorCode::HttpStatus, Some(503), None))
            })
            .await;
        assert_eq!(result.unwrap_err().status, Some(503));
        assert_eq!(attempts.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn a_final_error_is_not_retried() {
        let attempts = AtomicU32::new(0);
        let result: Result<()> = quick(3)
            .run(|| async {
                attempts.fetch_add(1, Ordering::SeqCst);
                Err(failure(ErrorCode::HttpStatus, Some(400), None))
            })
            .await;
        assert!(result.is_err());
        assert_eq!(attempts.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn the_servers_wait_is_honoured() {
        let attempts = AtomicU32::new(0);
        let started = Instant::now();
        let result = quick(1)
            .run(|| async {
                if attempts.fetch_add(1, Ordering::SeqCst) == 0 {
                    Err(failure(ErrorCode::RateLimited, Some(429), Some(150)))
                } else {
                    Ok("done")
                }
            })
            .await;
        assert_eq!(result.unwrap(), "done");
        assert!(started.elapsed() >= Duration::from_millis(150));
    }
}
