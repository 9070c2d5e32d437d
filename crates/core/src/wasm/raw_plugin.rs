//! `RawWasmPlugin`: any Extism plugin, called by function name (the `ExtismPlugin` API).
use std::collections::HashSet;
use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use extism::{CancelHandle, Function, Plugin};

use super::call_error::{call_error, poisons_instance};
use super::call_thread::{CallThread, run_on};
use super::compiled::CompiledWasm;
use super::extism_http::{self, ExtismHttp};
use super::lock;
use super::module_cache::ModuleCache;
use super::module_info::{ModuleInfo, check_sha256};
use super::options::WasmOptions;
use super::plugin_log::{self, PluginLog};
use super::startup::RESERVED_PREFIX;
use super::user_functions::{CallBoard, UserFunctions};
use crate::error::{ErrorCode, ModelportError, Result};
use crate::http::{AllowList, HttpEngine, HttpOptions};

/// Identifies one call, so it can be cancelled whether it is waiting or running.
pub type CallId = u64;

/// Prepares a fresh instance (its first call); an error fails the call that needed it.
pub type InstanceSetup = Box<dyn Fn(&mut Plugin) -> Result<()> + Send + Sync>;

/// What the embedding host gives a raw plugin besides its settings.
#[derive(Clone, Default)]
pub struct RawHost {
    /// The user's host functions (`None`: none, and a module importing one is refused).
    pub functions: Option<UserFunctions>,
    /// Where its log records go.
    pub log: PluginLog,
}

/// One Extism plugin instance (its vars persist between calls). Calls run one at a time; a call
/// that traps, times out, runs out of memory or is cancelled discards the instance, and the
/// next call gets a fresh one (with fresh vars).
pub struct RawWasmPlugin {
    compiled: CompiledWasm,
    /// The host functions every instance is linked to.
    functions: Vec<Function>,
    /// What the running call tells its host functions (call id, deadline, cancellation).
    board: Arc<CallBoard>,
    timeout: Option<Duration>,
    /// Its exports and imports, as the module declares them.
    info: ModuleInfo,
    instance: Mutex<Option<Plugin>>,
    /// Run on each instance made after the first (e.g. an SDK plugin's `init` with its config).
    setup: Mutex<Option<InstanceSetup>>,
    calls: Mutex<CallState>,
    next_call: AtomicU64,
    closed: AtomicBool,
    /// Where its calls from async code run, one after another.
    thread: CallThread,
}

#[derive(Default)]
struct CallState {
    running: Option<(CallId, CancelHandle)>,
    cancelled: HashSet<CallId>,
}

impl RawWasmPlugin {
    /// Compiles `bytes` (through the cache) and makes the first instance, linked to the user's
    /// host functions (checked against the module's imports first). Blocking.
    pub fn load(
        bytes: Vec<u8>,
        options: &WasmOptions,
        cache: ModuleCache,
        path: Option<&Path>,
        host: &RawHost,
    ) -> Result<Self> {
        let located = |err: ModelportError| match path {
            Some(path) => err.with_path(path),
            None => err,
        };
        if let Some(expected) = &options.module_sha256 {
            check_sha256(&bytes, expected).map_err(located)?;
        }
        let board = Arc::new(CallBoard::default());
        // Not Wasm (nor WAT): no info and no links; compiling it tells what is wrong.
        let binary = wat::parse_bytes(&bytes).ok();
        let info = binary.as_deref().map(ModuleInfo::read).unwrap_or_default();
        let mut functions = match (&host.functions, &binary) {
            (Some(user), Some(binary)) => user.link(binary, &board).map_err(located)?,
            _ => Vec::new(),
        };
        functions.extend(plugin_log::functions(host.log.clone()));
        if let Some(http) = Self::http(options) {
            let board = board.clone();
            functions.extend(extism_http::functions(
                Arc::new(http),
                Arc::new(move || board.limits()),
            ));
        }
        let (compiled, first) =
            CompiledWasm::compile(bytes, options, functions.clone(), cache, path)?;
        Ok(Self {
            compiled,
            functions,
            board,
            timeout: options.sandbox.timeout,
            info,
            instance: Mutex::new(Some(first)),
            setup: Mutex::new(None),
            calls: Mutex::new(CallState::default()),
            next_call: AtomicU64::new(1),
            closed: AtomicBool::new(false),
            thread: CallThread::new(),
        })
    }

    /// How the plugin's `http_request` calls are served: by modelport's engine, on the async
    /// runtime of the loading thread (none outside one: Extism's own refusal then answers).
    fn http(options: &WasmOptions) -> Option<ExtismHttp> {
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let defaults = HttpOptions::default();
        Some(ExtismHttp {
            engine: HttpEngine::new(),
            options: HttpOptions {
                request_timeout: options.sandbox.timeout,
                max_response_bytes: options
                    .max_http_response_bytes
                    .unwrap_or(defaults.max_response_bytes),
                allowed: Some(AllowList::new(&options.sandbox.allowed_hosts)),
                ..defaults
            },
            runtime,
        })
    }

    /// Reads a module file and loads it. Blocking.
    pub fn load_file(
        path: &Path,
        options: &WasmOptions,
        cache: ModuleCache,
        host: &RawHost,
    ) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|err| {
            ModelportError::new(ErrorCode::PluginLoadFailed, "cannot read the Wasm file")
                .with_path(path)
                .with_cause(err)
        })?;
        Self::load(bytes, options, cache, Some(path), host)
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
        self.board.cancel(id);
        let mut calls = lock(&self.calls);
        calls.cancelled.insert(id);
        if let Some((running, handle)) = &calls.running
            && *running == id
        {
            let _ = handle.cancel();
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

    /// The module's exports and imports.
    pub fn info(&self) -> &ModuleInfo {
        &self.info
    }

    /// Whether a call is running.
    pub fn is_active(&self) -> bool {
        lock(&self.calls).running.is_some()
    }

    /// Discards the instance (its memory and vars): the next call gets a fresh one, its start-up
    /// code run again. `false`, and nothing done, while a call runs.
    pub fn reset(&self) -> bool {
        match self.instance.try_lock() {
            Ok(mut slot) => {
                *slot = None;
                true
            }
            Err(std::sync::TryLockError::Poisoned(poisoned)) => {
                *poisoned.into_inner() = None;
                true
            }
            Err(std::sync::TryLockError::WouldBlock) => false,
        }
    }

    /// Sets what each later instance runs first (an instance that traps is replaced, with a
    /// fresh memory).
    pub fn set_instance_setup(&self, setup: InstanceSetup) {
        *lock(&self.setup) = Some(setup);
    }

    fn instance_in<'a>(&self, slot: &'a mut Option<Plugin>) -> Result<&'a mut Plugin> {
        if slot.is_none() {
            let mut fresh = self.compiled.instantiate(self.functions.clone())?;
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
        self.call_in(id, function, input, read, true)
    }

    /// Like [`Self::call_with`], but fails at once (`UNSUPPORTED`) if another call runs: for a
    /// caller whose thread the running call may need (a host function's JS thread).
    pub fn call_now_with<R>(
        &self,
        id: CallId,
        function: &str,
        input: &[u8],
        read: impl FnOnce(&[u8]) -> R,
    ) -> Result<R> {
        self.call_in(id, function, input, read, false)
    }

    fn call_in<R>(
        &self,
        id: CallId,
        function: &str,
        input: &[u8],
        read: impl FnOnce(&[u8]) -> R,
        wait: bool,
    ) -> Result<R> {
        self.check_open()?;
        if function.starts_with(RESERVED_PREFIX) {
            return Err(ModelportError::new(
                ErrorCode::Unsupported,
                format!("{function} is the host's start-up entry point, not the plugin's"),
            ));
        }
        let mut slot = if wait {
            lock(&self.instance)
        } else {
            match self.instance.try_lock() {
                Ok(slot) => slot,
                Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => {
                    return Err(ModelportError::new(
                        ErrorCode::Unsupported,
                        format!(
                            "{function}: another call of this plugin is running, and its host functions need this thread: await call() instead of callSync(), or call from outside the host function"
                        ),
                    ));
                }
            }
        };
        let plugin = self.instance_in(&mut slot)?;
        self.board.begin(id, self.timeout);
        {
            // Under the lock `close` and `cancel` take: either they see this call running, or
            // it sees them.
            let mut calls = lock(&self.calls);
            if calls.cancelled.remove(&id) {
                return Err(ModelportError::aborted(format!(
                    "{function} was cancelled before it started"
                )));
            }
            if self.closed.load(Ordering::Acquire) {
                return Err(ModelportError::aborted(format!(
                    "{function}: the plugin was closed"
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
        if function == "_start" || cancelled {
            // A WASI command's `_start` ends its instance's life (Extism would reset the store):
            // the next call gets a fresh instance, with its start-up code run again. So does a
            // cancel, even one that came as the call ended (it would interrupt the next call).
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

    /// Calls `function` with `input` on the plugin's own thread and copies the output out. The
    /// call is queued now, behind the calls queued before it, not when the future is polled.
    pub fn call_queued(
        self: &Arc<Self>,
        id: CallId,
        function: String,
        input: Vec<u8>,
    ) -> impl Future<Output = Result<Vec<u8>>> + Send + 'static {
        let plugin = self.clone();
        let output = run_on(self.thread.queue(), move || {
            plugin.call_with(id, &function, &input, <[u8]>::to_vec)
        });
        async move { output.await? }
    }

    /// Calls `function` with `input` and copies the output out. Blocking.
    pub fn call(&self, function: &str, input: &[u8]) -> Result<Vec<u8>> {
        self.call_with(self.new_call(), function, input, <[u8]>::to_vec)
    }

    /// Ends the plugin: later calls fail with `ABORTED`; a running call is interrupted.
    pub fn close(&self) {
        let running = {
            let calls = lock(&self.calls);
            self.closed.store(true, Ordering::Release);
            calls.running.as_ref().map(|(id, _)| *id)
        };
        if let Some(id) = running {
            self.cancel(id);
        }
        if let Ok(mut slot) = self.instance.try_lock() {
            *slot = None;
        }
    }
}
