//! `Backend`: the plugin object behind a provider, made from a loaded plugin and a config.
use std::sync::Arc;

use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::error::{ErrorCode, ModelportError, Result};
use crate::external::ExternalProvider;
use crate::host_http::{self, HttpPlugin};
use crate::http::HttpEngine;
use crate::native::{FactoryKind, NativeAsync, NativeHttp};
use crate::plugin::{LoadedPlugin, PluginSource};
use crate::wasm::{Generation, WasmProvider};

/// What runs a provider's calls.
pub(crate) enum Backend {
    /// A native HTTP plugin: it builds requests and parses responses, the host does the HTTP.
    Http(NativeHttp),
    /// A native async plugin: it does the work itself.
    Async(NativeAsync),
    /// A Wasm provider on its own instance pool: QueryMT v2 (the host does its HTTP) or v1
    /// (the plugin does, in whole calls).
    Wasm(WasmProvider),
    /// Code outside the core (a TypeScript plugin), configured when it was initialised.
    External(Arc<dyn ExternalProvider>),
}

impl Backend {
    /// The plugin object `plugin` makes for a validated `config` (native `from_config`, or a
    /// Wasm instance pool whose `from_config` accepts it).
    pub(crate) async fn new(
        plugin: &LoadedPlugin,
        config: &Map<String, Value>,
        engine: &HttpEngine,
        shutdown: &CancellationToken,
    ) -> Result<Self> {
        let name = plugin.info().name.as_str();
        let text = || Value::Object(config.clone()).to_string();
        match plugin.source() {
            PluginSource::Native { factory, .. } => match factory.kind {
                FactoryKind::Http => NativeHttp::new(
                    factory.object.clone(),
                    text(),
                    engine.clone(),
                    plugin.http_options().clone(),
                )
                .map(Backend::Http),
                FactoryKind::Async => {
                    NativeAsync::new(factory.object.clone(), text()).map(Backend::Async)
                }
            },
            PluginSource::External(provider) => Ok(Backend::External(provider.clone())),
            PluginSource::Wasm(factory) => factory
                .provider(
                    config.clone(),
                    engine.clone(),
                    plugin.http_options().clone(),
                    shutdown.clone(),
                )
                .await
                .map(Backend::Wasm)
                .map_err(|err| err.with_plugin(name)),
        }
    }

    /// Whether its protocol takes a call's own settings with the call (the native ABI); else
    /// they are laid over its config (QueryMT's Wasm protocol).
    pub(crate) fn takes_call_params(&self) -> bool {
        !matches!(self, Backend::Wasm(_))
    }

    /// How its calls run.
    pub(crate) fn calls(&self) -> Calls<'_> {
        match self {
            Backend::Http(native) => Calls::HostHttp(native),
            Backend::Wasm(wasm) if wasm.generation() == Generation::V2 => Calls::HostHttp(wasm),
            Backend::Wasm(wasm) => Calls::WasmWhole(wasm),
            Backend::Async(native) => Calls::Native(native),
            Backend::External(external) => Calls::External(external.as_ref()),
        }
    }

    /// The models on offer under its config.
    pub(crate) async fn list_models(&self) -> Result<Vec<String>> {
        match self.calls() {
            Calls::HostHttp(http) => host_http::list_models(http).await,
            Calls::Native(native) => native.list_models().await,
            Calls::WasmWhole(wasm) => wasm.list_models().await,
            Calls::External(_) => Err(ModelportError::new(
                ErrorCode::Unsupported,
                "a TypeScript provider plugin has no model list (seed 004's provider interface has none)",
            )),
        }
    }
}

/// How a backend's calls run.
pub(crate) enum Calls<'a> {
    /// The plugin builds requests and parses responses; the host does the HTTP.
    HostHttp(&'a dyn HttpPlugin),
    /// A native async plugin does the work itself.
    Native(&'a NativeAsync),
    /// A QueryMT v1 Wasm plugin does the work (its HTTP through host functions) in whole calls.
    WasmWhole(&'a WasmProvider),
    /// Code outside the core answers each attempt.
    External(&'a dyn ExternalProvider),
}
