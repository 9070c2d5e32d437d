//! `BindingExtismPlugin`: any Extism plugin, called by function name. An async call is
//! cancelled like a provider call: through the abort token (`newCall()` / `cancelCall(n)`) the
//! facade wires its `AbortSignal` to.
use std::path::PathBuf;
use std::sync::Arc;

use modelport_core::wasm::{
    LogSink, ModuleItem, PluginLog, RawHost, RawWasmPlugin, UserFunction, UserFunctions,
};
use modelport_core::{ErrorCode, ModelportError};
use napi::bindgen_prelude::{
    Array, BigInt, FnArgs, Function, PromiseRaw, Uint8Array, Uint8ArraySlice, Unknown, i64n,
};
use napi::{Either, Env};
use napi_derive::napi;

use crate::call_token;
use crate::error::{napi_result, to_napi};
use crate::host_functions::{HostCallSlot, JsHostFunctions};
use crate::inline_poll::Answer;
use crate::js_thread;
use crate::plugin_logger::{JsLogger, LoggerArg};
use crate::types::wasm_options::BindingWasmOptions;

#[napi]
pub struct BindingExtismPlugin {
    inner: Arc<RawWasmPlugin>,
    /// The host call lent to the facade's `CallContext` while a host function runs.
    host_call: Arc<HostCallSlot>,
    /// Whether it has host functions (a `callSync` then must not wait for a running call).
    has_functions: bool,
    /// Whether its calls may call JavaScript (host functions, a logger): `callSync` then runs
    /// as a JS-thread callback (`js_thread::in_callback`).
    calls_js: bool,
}

/// A host function the facade offers: where the module imports it from, and how many values
/// its code declares after the context (`null`: any).
#[napi(object)]
pub struct BindingHostFunction {
    pub namespace: String,
    pub name: String,
    pub declared_params: Option<u32>,
}

/// An export or import of the module (`module` is empty for an export).
#[napi(object)]
pub struct BindingModuleItem {
    pub module: String,
    pub name: String,
    #[napi(ts_type = "'function' | 'table' | 'memory' | 'global' | 'tag'")]
    pub kind: String,
}

impl From<&ModuleItem> for BindingModuleItem {
    fn from(item: &ModuleItem) -> Self {
        Self {
            module: item.module.clone(),
            name: item.name.clone(),
            kind: item.kind.to_string(),
        }
    }
}

/// `(callId, index, args) => value | Promise<value>`: runs the facade's host function `index`.
type DispatchArg<'a> = Function<'a, FnArgs<(f64, u32, Array<'static>)>, Unknown<'static>>;

fn offset_of(value: BigInt) -> u64 {
    value.get_u64().1
}

fn bytes_of<'a>(input: &'a Either<String, Uint8ArraySlice<'_>>) -> &'a [u8] {
    match input {
        Either::A(text) => text.as_bytes(),
        Either::B(bytes) => bytes.as_ref(),
    }
}

fn join_error(err: impl std::fmt::Display) -> napi::Error {
    to_napi(
        ModelportError::new(ErrorCode::PluginError, "the plugin call's thread failed")
            .with_cause(err),
    )
}

#[napi]
impl BindingExtismPlugin {
    /// Compiles (through the cache) and instantiates a module from a path or bytes, off the JS
    /// thread, linked to the facade's host functions (run through `dispatch`).
    #[napi(ts_return_type = "Promise<BindingExtismPlugin>")]
    #[allow(clippy::too_many_arguments)]
    pub fn load<'env>(
        env: &'env Env,
        source: Either<String, Uint8Array>,
        options: Option<BindingWasmOptions>,
        functions: Option<Vec<BindingHostFunction>>,
        #[napi(
            ts_arg_type = "((callId: number, index: number, args: unknown[]) => unknown) | null"
        )]
        dispatch: Option<DispatchArg<'_>>,
        #[napi(ts_arg_type = "((level: string, message: string) => void) | null")] logger: Option<
            LoggerArg<'_>,
        >,
        #[napi(ts_arg_type = "'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent' | null")]
        log_level: Option<String>,
    ) -> napi::Result<PromiseRaw<'env, BindingExtismPlugin>> {
        let (options, cache) = napi_result(options.unwrap_or_default().into_core())?;
        let source = match source {
            Either::A(path) => Either::A(PathBuf::from(path)),
            Either::B(bytes) => Either::B(bytes.to_vec()),
        };
        let host_call = Arc::new(HostCallSlot::default());
        let functions: Vec<UserFunction> = functions
            .unwrap_or_default()
            .into_iter()
            .map(|f| UserFunction {
                namespace: f.namespace,
                name: f.name,
                declared_params: f.declared_params.map(|n| n as usize),
            })
            .collect();
        let has_functions = !functions.is_empty();
        let functions = match dispatch {
            Some(dispatch) if has_functions => {
                let labels = functions
                    .iter()
                    .map(|f| format!("{}::{}", f.namespace, f.name))
                    .collect();
                let host = JsHostFunctions::new(env, labels, dispatch, host_call.clone())?;
                UserFunctions {
                    functions,
                    host: Arc::new(host),
                }
            }
            _ => UserFunctions::none(),
        };
        let has_logger = logger.is_some();
        let sink = match logger {
            Some(logger) => Some(Arc::new(JsLogger::new(env, logger)?) as Arc<dyn LogSink>),
            None => None,
        };
        let log = napi_result(PluginLog::new(sink, log_level.as_deref()))?;
        let host = RawHost {
            functions: Some(functions),
            log,
        };
        env.spawn_future(async move {
            let plugin = napi::tokio::task::spawn_blocking(move || match source {
                Either::A(path) => RawWasmPlugin::load_file(&path, &options, cache, &host),
                Either::B(bytes) => RawWasmPlugin::load(bytes, &options, cache, None, &host),
            })
            .await
            .map_err(join_error)?;
            Ok(BindingExtismPlugin {
                inner: Arc::new(napi_result(plugin)?),
                host_call,
                has_functions,
                calls_js: has_functions || has_logger,
            })
        })
    }

    /// A new call id, for a call whose host functions need to know it (their `hostContext`).
    #[napi]
    pub fn next_call_id(&self) -> f64 {
        self.inner.new_call() as f64
    }

    /// Calls the exported function `name` on the JS thread (for tiny, fast calls); the input is
    /// read in place. The output is copied once, from plugin memory straight into a JS-owned
    /// buffer. Host functions run inline; with host functions, a running call is not waited for.
    #[napi]
    pub fn call_sync<'env>(
        &self,
        env: &'env Env,
        name: String,
        input: Either<String, Uint8ArraySlice>,
        call_id: Option<f64>,
    ) -> napi::Result<Uint8ArraySlice<'env>> {
        let id = call_id.map_or_else(|| self.inner.new_call(), |id| id as u64);
        let read = |output: &[u8]| Uint8ArraySlice::copy_from(env, output);
        let input = bytes_of(&input);
        let output = if self.has_functions {
            js_thread::in_callback(env.raw(), || {
                self.inner.call_now_with(id, &name, input, read)
            })
        } else if self.calls_js {
            js_thread::in_callback(env.raw(), || self.inner.call_with(id, &name, input, read))
        } else {
            self.inner.call_with(id, &name, input, read)
        };
        napi_result(output)?
    }

    /// Calls the exported function `name` off the JS thread, on the plugin's call thread; the
    /// abort token `abort_id` (from `newCall()`) stops it, waiting or running, host functions'
    /// waits included. `call_id` (from `nextCallId()`) is what its host functions are told.
    #[napi(ts_return_type = "Uint8Array | Promise<Uint8Array>")]
    pub fn call<'env>(
        &self,
        env: &'env Env,
        name: String,
        input: Either<String, Uint8Array>,
        abort_id: Option<u32>,
        call_id: Option<f64>,
    ) -> napi::Result<Answer<'env, Uint8Array>> {
        let input = match input {
            Either::A(text) => text.into_bytes(),
            Either::B(bytes) => bytes.to_vec(),
        };
        let plugin = self.inner.clone();
        let id = call_id.map_or_else(|| plugin.new_call(), |id| id as u64);
        // The token's cancellation reaches the call through the plugin's own per-call cancel.
        let watcher = call_token::token(abort_id).map(|token| {
            let plugin = plugin.clone();
            napi::bindgen_prelude::spawn(async move {
                token.cancelled().await;
                plugin.cancel(id);
            })
        });
        let output = plugin.call_queued(id, name, input);
        // Settled on the JS thread through its shared poller: no threadsafe function per call.
        js_thread::answer_here(env, async move {
            let output = output.await;
            if let Some(watcher) = watcher {
                watcher.abort();
            }
            napi_result(output).map(Uint8Array::new)
        })
    }

    /// The running host function's plugin memory block at `offset` (a copy), or `null`.
    #[napi]
    pub fn host_read(&self, offset: BigInt) -> napi::Result<Option<Uint8Array>> {
        let offset = offset_of(offset);
        napi_result(
            self.host_call
                .with(move |call| Ok(call.read(offset).map(<[u8]>::to_vec))),
        )
        .map(|bytes| bytes.map(Uint8Array::new))
    }

    /// Copies `bytes` into a new block of the running host function's plugin; its offset.
    #[napi(ts_return_type = "bigint")]
    pub fn host_store(&self, bytes: Uint8Array) -> napi::Result<i64n> {
        let bytes = bytes.to_vec();
        napi_result(
            self.host_call
                .with(move |call| call.store(&bytes))
                .map(|o| i64n(o as i64)),
        )
    }

    /// A new zeroed block of `length` bytes; its offset.
    #[napi(ts_return_type = "bigint")]
    pub fn host_alloc(&self, length: BigInt) -> napi::Result<i64n> {
        let length = offset_of(length);
        napi_result(
            self.host_call
                .with(move |call| call.alloc(length))
                .map(|o| i64n(o as i64)),
        )
    }

    /// The length of the block at `offset` (0 if none starts there).
    #[napi(ts_return_type = "bigint")]
    pub fn host_length(&self, offset: BigInt) -> napi::Result<i64n> {
        let offset = offset_of(offset);
        napi_result(
            self.host_call
                .with(move |call| Ok(call.length(offset)))
                .map(|n| i64n(n as i64)),
        )
    }

    /// The plugin's var `name` (a copy), or `null`.
    #[napi]
    pub fn host_get_var(&self, name: String) -> napi::Result<Option<Uint8Array>> {
        napi_result(
            self.host_call
                .with(move |call| Ok(call.var(&name).map(<[u8]>::to_vec))),
        )
        .map(|value| value.map(Uint8Array::new))
    }

    /// Sets the plugin's var `name`.
    #[napi]
    pub fn host_set_var(&self, name: String, value: Uint8Array) -> napi::Result<()> {
        let value = value.to_vec();
        napi_result(self.host_call.with(move |call| call.set_var(&name, &value)))
    }

    /// Removes the plugin's var `name`.
    #[napi]
    pub fn host_delete_var(&self, name: String) -> napi::Result<()> {
        napi_result(self.host_call.with(move |call| {
            call.delete_var(&name);
            Ok(())
        }))
    }

    /// Fails the running call with `message` once the plugin's function returns.
    #[napi]
    pub fn host_set_error(&self, message: String) -> napi::Result<()> {
        napi_result(self.host_call.with(move |call| call.set_error(&message)))
    }

    /// The module's exports, as WebAssembly's `ModuleExportDescriptor`s.
    #[napi]
    pub fn exports(&self) -> Vec<BindingModuleItem> {
        self.inner.info().exports.iter().map(Into::into).collect()
    }

    /// The module's imports, as WebAssembly's `ModuleImportDescriptor`s.
    #[napi]
    pub fn imports(&self) -> Vec<BindingModuleItem> {
        self.inner.info().imports.iter().map(Into::into).collect()
    }

    /// Whether a call is running.
    #[napi]
    pub fn is_active(&self) -> bool {
        self.inner.is_active()
    }

    /// Discards the instance (memory, vars); `false`, and nothing done, while a call runs.
    #[napi]
    pub fn reset(&self) -> bool {
        self.inner.reset()
    }

    /// Whether the module exports a function `name`.
    #[napi]
    pub fn function_exists(&self, name: String) -> napi::Result<bool> {
        napi_result(self.inner.function_exists(&name))
    }

    /// Whether the module was found compiled in the on-disk cache when it was loaded.
    #[napi(getter)]
    pub fn compiled_from_cache(&self) -> bool {
        self.inner.compiled_from_cache()
    }

    /// Ends the plugin; a running call is interrupted, later calls fail with `ABORTED`.
    #[napi]
    pub fn close(&self) {
        self.inner.close();
    }
}
