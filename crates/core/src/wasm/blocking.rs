//! Running a leased instance's (blocking) Wasm calls off the async threads, interruptibly.
use tokio_util::sync::CancellationToken;

use super::pool::{Interrupter, Lease};
use crate::error::{ErrorCode, ModelportError, Result};

/// Interrupts the call in flight when dropped while still armed.
struct AbandonGuard {
    interrupter: Interrupter,
    cancel: CancellationToken,
    armed: bool,
}

impl Drop for AbandonGuard {
    fn drop(&mut self) {
        if self.armed {
            self.cancel.cancel();
            self.interrupter.interrupt();
        }
    }
}

/// Runs `work` with `lease` on a blocking thread and gives the lease back. If the registry
/// shuts down, or the returned future is dropped first (an abort or a deadline), the running
/// Wasm call is interrupted, host functions stop waiting, and the instance is discarded.
pub(crate) async fn on_blocking_thread<T, F>(
    mut lease: Lease,
    shutdown: &CancellationToken,
    work: F,
) -> Result<(Lease, T)>
where
    F: FnOnce(&mut Lease, &CancellationToken) -> T + Send + 'static,
    T: Send + 'static,
{
    let cancel = CancellationToken::new();
    let mut guard = AbandonGuard {
        interrupter: lease.interrupter(),
        cancel: cancel.clone(),
        armed: true,
    };
    let task = tokio::task::spawn_blocking(move || {
        let out = work(&mut lease, &cancel);
        (lease, out)
    });
    let joined = tokio::select! {
        biased;
        _ = shutdown.cancelled() => return Err(ModelportError::aborted("the registry was closed")),
        joined = task => joined,
    };
    guard.armed = false;
    joined.map_err(|err| {
        ModelportError::new(ErrorCode::PluginError, "the plugin call's thread failed")
            .with_cause(err)
    })
}
