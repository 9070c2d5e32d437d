//! `RawWasmPlugin`: any Extism plugin, called by function name (the `ExtismPlugin` API).
use std::collections::HashSet;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use extism::{CancelHandle, Plugin};

use super::call_error::{call_error, poisons_instance};
use super::compiled::CompiledWasm;
use super::module_cache::ModuleCache;
use super::options::WasmOptions;
use super::startup::RESERVED_PREFIX;
use crate::error::{ErrorCode, ModelportError, Result};

/// Identifies one call, so it can be cancelled whether it is waiting or running.
pub type CallId = u64;

/// Prepares a fresh instance (its first call); an error fails the call that needed it.
pub type InstanceSetup = Box<dyn Fn(&mut Plugin) -> Result<()> + Send + Sync>;

/// One Extism plugin instance (its vars persist between calls). Calls run one at a time; a call
/// that traps, times out, runs out of memory or is cancelled discards the instance, and the
/// next call gets a fresh one (with fresh vars).
pub struct RawWasmPlugin {
    compiled: CompiledWasm,
    instance: Mutex<Option<Plugin>>,
    /// Run on each instance made after the first (e.g. an SDK plugin's `init` with its config).
    setup: Mutex<Option<InstanceSetup>>,
    calls: Mutex<CallState>,
    next_call: AtomicU64,
    closed: AtomicBool,
}

#[derive(Default)]
struct CallState {
    running: Option<(CallId, CancelHandle)>,
    cancelled: HashSet<CallId>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl RawWasmPlugin {
    /// Compiles `bytes` (through the cache) and makes the first instance. Blocking.
    pub fn load(
        bytes: Vec<u8>,
        options: &WasmOptions,
        cache: ModuleCache,
        path: Option<&Path>,
    ) -> Result<Self> {
        let (compiled, first) = CompiledWasm::compile(bytes, options, Vec::new(), cache, path)?;
        Ok(Self {
            compiled,
            instance: Mutex::new(Some(first)),
            setup: Mutex::new(None),
            calls: Mutex::new(CallState::default()),
            next_call: AtomicU64::new(1),
            closed: AtomicBool::new(false),
        })
    }

    /// Reads a module file and loads it. Blocking.
    pub fn load_file(path: &Path, options: &WasmOptions, cache: ModuleCache) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|err| {
            ModelportError::new(ErrorCode::PluginLoadFailed, "cannot read the Wasm file")
                .with_path(path)
                .with_cause(err)
        })?;
        Self::load(bytes, options, cache, Some(path))
    }

    /// Whether the module's compilation was served from the disk cache.
    pub fn compiled_from_cache(&self) -> bool {
        self.compiled.compiled_from_cache()
    }

    fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(ModelportError::new(
                ErrorCode::Aborted,
                "the plugin was closed",
            ));
        }
        Ok(())
    }

    /// A new call id, for [`Self::call`] and [`Self::cancel`].
    pub fn new_call(&self) -> CallId {
        self.next_call.fetch_add(1, Ordering::Relaxed)
    }

    /// Stops call `id`: before it starts, it fails with `ABORTED`; while it runs, it is interrupted.
    pub fn cancel(&self, id: CallId) {
        let mut calls = lock(&self.calls);
        calls.cancelled.insert(id);
        if let Some((running, handle)) = &calls.running {
            if *running == id {
                let _ = handle.cancel();
            }
        }
    }

    /// Whether the module exports `function`.
    pub fn function_exists(&self, function: &str) -> Result<bool> {
        self.check_open()?;
        if function.starts_with(RESERVED_PREFIX) {
            return Ok(false);
        }
        let mut slot = lock(&self.instance);
        Ok(self.instance_in(&mut slot)?.function_exists(function))
    }

    /// Sets what each later instance runs first (an instance that traps is replaced, with a
    /// fresh memory).
    pub fn set_instance_setup(&self, setup: InstanceSetup) {
        *lock(&self.setup) = Some(setup);
    }

    fn instance_in<'a>(&self, slot: &'a mut Option<Plugin>) -> Result<&'a mut Plugin> {
        if slot.is_none() {
            let mut fresh = self.compiled.instantiate(Vec::new())?;
            if let Some(setup) = lock(&self.setup).as_ref() {
                setup(&mut fresh)?;
            }
            *slot = Some(fresh);
        }
        Ok(slot.as_mut().expect("just filled"))
    }

    /// Calls `function` with `input`; `read` gets the output while it is still in plugin memory.
    /// Blocking: the caller chooses the thread.
    pub fn call_with<R>(
        &self,
        id: CallId,
        function: &str,
        input: &[u8],
        read: impl FnOnce(&[u8]) -> R,
    ) -> Result<R> {
        self.check_open()?;
        if function.starts_with(RESERVED_PREFIX) {
            return Err(ModelportError::new(
                ErrorCode::Unsupported,
                format!("{function} is the host's start-up entry point, not the plugin's"),
            ));
        }
        let mut slot = lock(&self.instance);
        let plugin = self.instance_in(&mut slot)?;
        {
            let mut calls = lock(&self.calls);
            if calls.cancelled.remove(&id) {
                return Err(ModelportError::aborted(format!(
                    "{function} was cancelled before it started"
                )));
            }
            calls.running = Some((id, plugin.cancel_handle()));
        }
        let outcome = plugin.call::<&[u8], &[u8]>(function, input).map(read);
        let cancelled = {
            let mut calls = lock(&self.calls);
            calls.running = None;
            calls.cancelled.remove(&id)
        };
        if function == "_start" {
            // A WASI command's `_start` ends its instance's life (Extism would reset the store):
            // the next call gets a fresh instance, with its start-up code run again.
            *slot = None;
        }
        match outcome {
            Ok(value) => Ok(value),
            Err(err) => {
                let error = call_error(err, function, cancelled);
                if poisons_instance(&error) {
                    *slot = None;
                }
                Err(error)
            }
        }
    }

    /// Calls `function` with `input` and copies the output out. Blocking.
    pub fn call(&self, function: &str, input: &[u8]) -> Result<Vec<u8>> {
        self.call_with(self.new_call(), function, input, <[u8]>::to_vec)
    }

    /// Ends the plugin: later calls fail with `ABORTED`; a running call is interrupted.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        let running = lock(&self.calls).running.as_ref().map(|(id, _)| *id);
        if let Some(id) = running {
            self.cancel(id);
        }
        if let Ok(mut slot) = self.instance.try_lock() {
            *slot = None;
        }
    }
}
