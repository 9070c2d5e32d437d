//! Wasm plugins, run in-process in the Extism sandbox (wasmtime).
//!
//! Every instance gets its own compiled plugin and so its own wasmtime engine: Extism stops a
//! call (timeout, cancel) by bumping its engine's epoch, which would also stop every other
//! instance sharing that engine. wasmtime's on-disk cache makes all but the first compilation
//! of a module a cache load.
mod call_error;
mod call_thread;
mod compiled;
mod extism_http;
mod factory;
mod guest_error;
mod host_functions;
mod http_wire;
mod instance_thread;
mod limits;
mod module_cache;
mod module_info;
mod options;
mod plugin_log;
mod pool;
mod provider;
mod raw_plugin;
mod sdk_plugin;
mod startup;
mod stream_parser;
mod user_functions;

pub use call_thread::CallThread;
pub use compiled::CompiledWasm;
/// The values and value types of Wasm host function calls.
pub use extism::{Val, ValType};
pub use extism_http::ExtismHttp;
pub use factory::{WasmFactory, WasmSandbox};
pub use module_cache::ModuleCache;
pub use module_info::{ModuleInfo, ModuleItem, check_sha256};
pub use options::{Sandbox, WasmOptions};
pub use plugin_log::{LogCrate, LogLevel, LogSink, PluginLog};
pub use provider::{Generation, WasmProvider};
pub use raw_plugin::{RawHost, RawWasmPlugin};
pub use sdk_plugin::open_wasm_sdk_plugin;
pub use user_functions::{
    CallBoard, CallLimits, HostCall, UserFunction, UserFunctionHost, UserFunctions, WaitEnd,
};

/// Locks `mutex`, also after a panic while it was held (what it guards stays usable).
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
