//! Per-call options (the call's own settings, retries, timeout, abort) and the scope that ends
//! a call early: the caller's abort, its deadline, or the registry closing.
use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::call_params::CallParams;
use crate::error::{ErrorCode, ModelportError, Result};

/// How one call runs, and what it adds to the provider's settings.
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    /// The call's own settings (system prompts, tool choice, generation parameters, headers).
    pub params: CallParams,
    /// Retries for this call, instead of the provider's `max_retries`.
    pub max_retries: Option<u32>,
    /// Deadline of the whole call (for a stream: until it ends), retries included.
    pub timeout: Option<Duration>,
    /// Cancelled when the caller aborts.
    pub abort: Option<CancellationToken>,
}

/// The ways a call can be ended from outside, fixed when it starts.
#[derive(Clone)]
pub(crate) struct CallScope {
    plugin: String,
    abort: Option<CancellationToken>,
    shutdown: CancellationToken,
    deadline: Option<(Instant, Duration)>,
}

impl CallScope {
    pub(crate) fn new(plugin: &str, options: &CallOptions, shutdown: &CancellationToken) -> Self {
        Self {
            plugin: plugin.to_string(),
            abort: options.abort.clone(),
            shutdown: shutdown.clone(),
            deadline: options
                .timeout
                .map(|timeout| (Instant::now() + timeout, timeout)),
        }
    }

    /// The error for a call ended from outside, if it has been.
    fn ended(&self) -> Option<ModelportError> {
        if self.shutdown.is_cancelled() {
            return Some(self.closed());
        }
        if self
            .abort
            .as_ref()
            .is_some_and(CancellationToken::is_cancelled)
        {
            return Some(self.aborted());
        }
        match self.deadline {
            Some((at, timeout)) if Instant::now() >= at => Some(self.timed_out(timeout)),
            _ => None,
        }
    }

    fn closed(&self) -> ModelportError {
        ModelportError::aborted("the registry was closed").with_plugin(&self.plugin)
    }

    fn aborted(&self) -> ModelportError {
        ModelportError::aborted("the call was aborted").with_plugin(&self.plugin)
    }

    fn timed_out(&self, timeout: Duration) -> ModelportError {
        ModelportError::new(
            ErrorCode::Timeout,
            format!(
                "the call exceeded its timeout of {} ms",
                timeout.as_millis()
            ),
        )
        .with_plugin(&self.plugin)
    }

    /// Runs `work` unless the call is ended from outside first; then `work` is dropped, which
    /// closes its HTTP exchange and interrupts its Wasm call.
    pub(crate) async fn run<T>(&self, work: impl Future<Output = Result<T>>) -> Result<T> {
        if let Some(err) = self.ended() {
            return Err(err);
        }
        let abort = async {
            match &self.abort {
                Some(token) => token.cancelled().await,
                None => std::future::pending().await,
            }
        };
        let deadline = async {
            match self.deadline {
                Some((at, _)) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            _ = self.shutdown.cancelled() => Err(self.closed()),
            _ = abort => Err(self.aborted()),
            _ = deadline => Err(self.timed_out(self.deadline.map(|(_, t)| t).unwrap_or_default())),
            result = work => result,
        }
    }
}
