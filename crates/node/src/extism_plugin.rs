//! `BindingExtismPlugin`: any Extism plugin, called by function name. An async call is
//! cancelled like a provider call: through the abort token (`newCall()` / `cancelCall(n)`) the
//! facade wires its `AbortSignal` to.
use std::path::PathBuf;
use std::sync::Arc;

use modelport_core::wasm::RawWasmPlugin;
use modelport_core::{ErrorCode, ModelportError};
use napi::bindgen_prelude::{Object, Uint8Array, Uint8ArraySlice};
use napi::{Either, Env};
use napi_derive::napi;

use crate::call_thread::CallThread;
use crate::call_token;
use crate::error::{napi_result, to_napi};
use crate::types::wasm_options::BindingWasmOptions;

#[napi]
pub struct BindingExtismPlugin {
    inner: Arc<RawWasmPlugin>,
    calls: CallThread,
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
    /// Compiles (through the cache) and instantiates a module from a path or bytes, off the JS thread.
    #[napi]
    pub async fn load(
        source: Either<String, Uint8Array>,
        options: Option<BindingWasmOptions>,
    ) -> napi::Result<BindingExtismPlugin> {
        let (options, cache) = napi_result(options.unwrap_or_default().into_core())?;
        let source = match source {
            Either::A(path) => Either::A(PathBuf::from(path)),
            Either::B(bytes) => Either::B(bytes.to_vec()),
        };
        let plugin = napi::tokio::task::spawn_blocking(move || match source {
            Either::A(path) => RawWasmPlugin::load_file(&path, &options, cache),
            Either::B(bytes) => RawWasmPlugin::load(bytes, &options, cache, None),
        })
        .await
        .map_err(join_error)?;
        Ok(BindingExtismPlugin {
            inner: Arc::new(napi_result(plugin)?),
            calls: CallThread::new("modelport-wasm-call"),
        })
    }

    /// Calls the exported function `name` on the JS thread (for tiny, fast calls); the input is read in place.
    /// The output is copied once, from plugin memory straight into a JS-owned buffer.
    #[napi]
    pub fn call_sync<'env>(
        &self,
        env: &'env Env,
        name: String,
        input: Either<String, Uint8ArraySlice>,
    ) -> napi::Result<Uint8ArraySlice<'env>> {
        let id = self.inner.new_call();
        napi_result(self.inner.call_with(id, &name, bytes_of(&input), |output| {
            Uint8ArraySlice::copy_from(env, output)
        }))?
    }

    /// Calls the exported function `name` off the JS thread, on the plugin's call thread; the
    /// abort token `call_id` (from `newCall()`) stops it, waiting or running.
    #[napi(ts_return_type = "Promise<Uint8Array>")]
    pub fn call<'env>(
        &self,
        env: &'env Env,
        name: String,
        input: Either<String, Uint8Array>,
        call_id: Option<u32>,
    ) -> napi::Result<Object<'env>> {
        let input = match input {
            Either::A(text) => text.into_bytes(),
            Either::B(bytes) => bytes.to_vec(),
        };
        let (deferred, promise) = env.create_deferred()?;
        let plugin = self.inner.clone();
        let id = plugin.new_call();
        // The token's cancellation reaches the call through the plugin's own per-call cancel.
        let watcher = call_token::token(call_id).map(|token| {
            let plugin = plugin.clone();
            napi::bindgen_prelude::spawn(async move {
                token.cancelled().await;
                plugin.cancel(id);
            })
        });
        let job = Box::new(move || {
            let output = plugin.call_with(id, &name, &input, <[u8]>::to_vec);
            if let Some(watcher) = watcher {
                watcher.abort();
            }
            deferred.resolve(move |_| napi_result(output).map(Uint8Array::new));
        });
        self.calls.run(job).map_err(join_error)?;
        Ok(promise)
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
