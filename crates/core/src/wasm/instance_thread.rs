//! Running a leased instance's (blocking) Wasm calls on its own thread, interruptibly.
use tokio_util::sync::CancellationToken;

use super::call_thread::run_on;
use super::pool::{Interrupter, Lease};
use crate::error::{ModelportError, Result};

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

/// Runs `work` with `lease` on the instance's own thread and gives the lease back. If the
/// registry shuts down, or the returned future is dropped first (an abort or a deadline), the
/// running Wasm call is interrupted, host functions stop waiting, and the instance is discarded.
pub(crate) async fn on_instance_thread<T, F>(
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
    let queue = lease.thread();
    let output = run_on(queue, move || {
        let out = work(&mut lease, &cancel);
        (lease, out)
    });
    let joined = tokio::select! {
        biased;
        _ = shutdown.cancelled() => return Err(ModelportError::aborted("the registry was closed")),
        joined = output => joined,
    };
    guard.armed = false;
    joined
}
