//! `InstancePool`: up to N instances of one provider, one call per instance at a time.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use extism::{CancelHandle, Plugin, UserData};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use super::call_error::{call_error, poisons_instance};
use super::call_thread::{CallThread, Job};
use super::compiled::CompiledWasm;
use super::host_functions::{InstanceHost, SharedHost, init_logging, instance_functions};
use super::lock;
use crate::error::{ErrorCode, ModelportError, Result};

struct Slot {
    plugin: Plugin,
    host: UserData<InstanceHost>,
    /// Where its calls from async code run.
    thread: CallThread,
}

/// Instances of one provider. Concurrent calls spread over up to `max` instances; an instance
/// that trapped, timed out, ran out of memory or was cancelled is discarded, not reused.
pub struct InstancePool {
    compiled: Arc<CompiledWasm>,
    shared: Arc<SharedHost>,
    idle: Mutex<Vec<Slot>>,
    permits: Arc<Semaphore>,
}

/// One instance, borrowed from the pool until dropped. Blocking to call: use its [`Lease::thread`].
pub struct Lease {
    slot: Option<Slot>,
    pool: Arc<InstancePool>,
    /// Set when the instance must not be reused: it failed in a way that may leave it broken,
    /// or its call was abandoned, or it holds state (a stream parser) that was not cleaned up.
    discard: Arc<AtomicBool>,
    /// Whether a call of the instance is under way: an interrupt is sent only then (Extism keeps
    /// a cancel that comes before the call has started, for the call it then starts).
    in_call: Arc<Mutex<bool>>,
    _permit: OwnedSemaphorePermit,
}

impl InstancePool {
    /// A pool of at most `max` instances of `compiled`, whose host functions use `shared`.
    pub fn new(compiled: Arc<CompiledWasm>, shared: Arc<SharedHost>, max: usize) -> Arc<Self> {
        Arc::new(Self {
            compiled,
            shared,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(max.max(1))),
        })
    }

    /// What every instance of this provider shares (plugin name, network settings, shutdown).
    pub fn shared(&self) -> &SharedHost {
        &self.shared
    }

    fn instantiate(&self) -> Result<Slot> {
        let (functions, host) = instance_functions(self.shared.clone());
        let mut plugin = self
            .compiled
            .instantiate(functions)
            .map_err(|err| err.with_plugin(&self.shared.plugin))?;
        init_logging(&mut plugin).map_err(|err| err.with_plugin(&self.shared.plugin))?;
        Ok(Slot {
            plugin,
            host,
            thread: CallThread::new(),
        })
    }

    /// Waits for a free instance (building one if none is idle).
    pub async fn lease(self: &Arc<Self>) -> Result<Lease> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ModelportError::aborted("the pool was closed"))?;
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let slot = match idle {
            Some(slot) => slot,
            None => {
                let pool = self.clone();
                tokio::task::spawn_blocking(move || pool.instantiate())
                    .await
                    .map_err(|err| {
                        ModelportError::new(ErrorCode::PluginLoadFailed, "instantiation failed")
                            .with_cause(err)
                    })??
            }
        };
        Ok(Lease {
            slot: Some(slot),
            pool: self.clone(),
            discard: Arc::new(AtomicBool::new(false)),
            in_call: Arc::new(Mutex::new(false)),
            _permit: permit,
        })
    }
}

impl Lease {
    fn slot(&mut self) -> &mut Slot {
        self.slot.as_mut().expect("present until dropped")
    }

    /// What interrupts this instance's running call from another thread.
    pub fn interrupter(&mut self) -> Interrupter {
        Interrupter {
            handle: self.slot().plugin.cancel_handle(),
            discard: self.discard.clone(),
            in_call: self.in_call.clone(),
        }
    }

    /// Where to queue blocking work with this instance: its own thread.
    pub fn thread(&mut self) -> std::io::Result<std::sync::mpsc::Sender<Job>> {
        self.slot().thread.queue()
    }

    /// Runs `f` on its own host state.
    pub fn with_host<R>(&mut self, f: impl FnOnce(&mut InstanceHost) -> R) -> Result<R> {
        let host = self.slot().host.get().map_err(|err| {
            ModelportError::new(ErrorCode::PluginError, "the instance's host state is gone")
                .with_cause(err)
        })?;
        let mut host = host.lock().unwrap_or_else(|p| p.into_inner());
        Ok(f(&mut host))
    }

    /// Do not return this instance to the pool.
    pub fn discard(&self) {
        self.discard.store(true, Ordering::Relaxed);
    }

    /// Calls `function` with `input`; `cancel` ends the host functions' waits, and tells after
    /// a failure whether the host interrupted the call on purpose. Blocking.
    pub fn call(
        &mut self,
        function: &str,
        input: &[u8],
        cancel: &CancellationToken,
    ) -> Result<Vec<u8>> {
        let plugin_name = self.pool.shared.plugin.clone();
        self.with_host(|host| host.begin_call(cancel.clone()))?;
        *lock(&self.in_call) = true;
        let outcome = self
            .slot()
            .plugin
            .call::<&[u8], &[u8]>(function, input)
            .map(<[u8]>::to_vec);
        *lock(&self.in_call) = false;
        let denial = self.with_host(InstanceHost::take_denial).ok().flatten();
        outcome.map_err(|err| {
            let interrupted = cancel.is_cancelled() || self.pool.shared.shutdown.is_cancelled();
            let error = call_error(err, function, interrupted).with_plugin(plugin_name);
            // The plugin failed after the allow-list refused it a request: that refusal is why.
            let error = match denial {
                Some(denied) if !poisons_instance(&error) => denied
                    .with_plugin(&self.pool.shared.plugin)
                    .with_cause(format!("the plugin then failed: {error}")),
                _ => error,
            };
            if poisons_instance(&error) {
                self.discard();
            }
            error
        })
    }
}

/// Interrupts one instance's running call and marks the instance for discarding.
pub struct Interrupter {
    handle: CancelHandle,
    discard: Arc<AtomicBool>,
    in_call: Arc<Mutex<bool>>,
}

impl Interrupter {
    /// Stops the running Wasm code at its next epoch check, or the call about to start as it
    /// starts. Between calls it only marks the instance: a cancel sent then would stop the next
    /// call of an instance already back in the pool.
    pub fn interrupt(&self) {
        self.discard.store(true, Ordering::Relaxed);
        let in_call = lock(&self.in_call);
        if *in_call {
            let _ = self.handle.cancel();
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            if let Ok(host) = slot.host.get()
                && let Ok(mut host) = host.lock()
            {
                host.close_streams();
                host.set_chunk_sink(None);
            }
            if !self.discard.load(Ordering::Relaxed) {
                self.pool
                    .idle
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(slot);
            }
        }
    }
}
