//! The Node-API binding of modelport: `Binding*` classes the TypeScript facade wraps. Only
//! conversions and scheduling live here; every behaviour is in `modelport-core`.
#![deny(clippy::all)]

mod call_token;
mod chat_stream;
mod error;
mod external_provider;
mod extism_plugin;
mod host_functions;
mod inline_poll;
mod js_thread;
mod plugin_logger;
mod provider;
mod registry;
mod sdk;
mod sdk_plugins;
mod types;
mod vector_store;

/// Every error code the core reports (`ModelportError.code`), for the facade's contract test.
#[napi_derive::napi]
pub fn error_codes() -> Vec<String> {
    modelport_core::ErrorCode::ALL
        .iter()
        .map(|code| code.as_str())
        .collect()
}

/// Sends modelport's (and plugins') log records to stderr when `MODELPORT_LOG` is set
/// (`MODELPORT_LOG=debug`, or `env_logger` filter syntax).
#[napi_derive::module_init]
fn init() {
    if std::env::var_os("MODELPORT_LOG").is_some() {
        let _ = env_logger::Builder::from_env("MODELPORT_LOG").try_init();
    }
}
