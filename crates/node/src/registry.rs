//! `BindingRegistry`: the registry as JS sees it.
use std::path::PathBuf;
use std::sync::Arc;

use modelport_core::config::ConfigSchema;
use modelport_core::{LoadReport, LoadedPlugin, PluginInfo, PluginKind, Registry, RegistryConfig};
use napi::Env;
use napi::bindgen_prelude::{FnArgs, FromNapiValue, Function, JsValue};
use napi_derive::napi;
use serde_json::Value;

use crate::error::{error_json, napi_result};
use crate::external_provider::{AbortFn, GenerateFn, JsProvider, StreamNextFn, StreamStartFn};
use crate::js_thread;
use crate::provider::BindingProvider;
use crate::types::call_options::BindingCallOptions;
use crate::types::options::object_of;

/// `(callId, outcome JSON, failed) => void`: how the facade reports a `generate` attempt's end.
type SettleFn<'env> = Function<'env, FnArgs<(u32, String, bool)>, ()>;

/// A loaded plugin, as `registry.list()` tells it.
#[napi(object)]
pub struct BindingPluginInfo {
    pub name: String,
    #[napi(ts_type = "'native' | 'wasm' | 'ts'")]
    pub kind: String,
    pub path: String,
    pub version: Option<String>,
    pub provider: String,
    pub api_key_name: Option<String>,
    pub api_key_env: Option<String>,
    pub host_http: bool,
    pub compiled_from_cache: Option<bool>,
}

fn kind_name(kind: PluginKind) -> String {
    match kind {
        PluginKind::Native => "native",
        PluginKind::Wasm => "wasm",
        PluginKind::Ts => "ts",
    }
    .to_string()
}

impl From<&PluginInfo> for BindingPluginInfo {
    fn from(info: &PluginInfo) -> Self {
        Self {
            name: info.name.clone(),
            kind: kind_name(info.kind),
            path: info.path.clone(),
            version: info.version.clone(),
            provider: info.provider.clone(),
            api_key_name: info.api_key_name.clone(),
            api_key_env: info.api_key_env.clone(),
            host_http: info.host_http,
            compiled_from_cache: info.compiled_from_cache,
        }
    }
}

/// The outcome of loading one plugin, as `registry.loadAll()` tells it. Its error travels as the
/// same JSON as a thrown error's (the facade rebuilds a `ModelportError` from either).
#[napi(object)]
pub struct BindingLoadReport {
    pub name: String,
    #[napi(ts_type = "'native' | 'wasm'")]
    pub kind: Option<String>,
    pub path: String,
    pub ok: bool,
    pub error: Option<String>,
}

impl From<LoadReport> for BindingLoadReport {
    fn from(report: LoadReport) -> Self {
        Self {
            name: report.name,
            kind: report.kind.map(kind_name),
            path: report.path,
            ok: report.ok,
            error: report.error.map(error_json),
        }
    }
}

#[napi]
pub struct BindingRegistry {
    inner: Registry,
}

#[napi]
impl BindingRegistry {
    /// Reads a .toml / .json / .yaml / .yml config file.
    #[napi(factory)]
    pub fn from_file(path: String) -> napi::Result<Self> {
        napi_result(Registry::from_file(&PathBuf::from(path)).map(|inner| Self { inner }))
    }

    /// Uses an in-memory config; relative plugin paths resolve against `base_dir`.
    #[napi(factory)]
    pub fn from_config(config: Value, base_dir: String) -> napi::Result<Self> {
        let config = napi_result(RegistryConfig::from_value(config))?;
        Ok(Self {
            inner: Registry::from_config(config, PathBuf::from(base_dir)),
        })
    }

    /// Loads every plugin; returns one report per plugin, in config order.
    #[napi]
    pub async fn load_all(&self) -> Vec<BindingLoadReport> {
        let reports = self.inner.load_all().await;
        reports.into_iter().map(BindingLoadReport::from).collect()
    }

    /// The loaded plugins, in config order.
    #[napi]
    pub fn list(&self) -> Vec<BindingPluginInfo> {
        self.inner
            .list()
            .iter()
            .map(BindingPluginInfo::from)
            .collect()
    }

    /// The names of the configured providers and plugins, in config order (loaded or not).
    #[napi]
    pub fn names(&self) -> Vec<String> {
        self.inner.names()
    }

    /// Adds a TypeScript provider plugin (already initialised by the facade) as `name`, with the
    /// JSON Schema of the settings it takes (what `configSchema(name)` answers): its
    /// providers are built with `build(name)` and served with the core's retries, timeouts,
    /// abort and streams, each attempt calling the given functions. Answers the function
    /// `generate` reports each attempt's outcome to: `settle(callId, json, failed)`.
    #[napi(ts_return_type = "(callId: number, outcome: string, failed: boolean) => void")]
    #[allow(clippy::too_many_arguments)]
    pub fn register_provider<'env>(
        &self,
        env: &'env Env,
        name: String,
        provider_name: String,
        version: Option<String>,
        #[napi(ts_arg_type = "Record<string, unknown>")] config_schema: Value,
        #[napi(ts_arg_type = "(call: [number, string]) => void")] generate: Function<
            '_,
            (u32, String),
            (),
        >,
        #[napi(ts_arg_type = "(call: [number, string]) => Promise<boolean>")]
        stream_start: StreamStartFn,
        #[napi(ts_arg_type = "(callId: number) => Promise<string | null>")]
        stream_next: StreamNextFn,
        #[napi(ts_arg_type = "(callId: number) => void")] abort: AbortFn,
    ) -> napi::Result<SettleFn<'env>> {
        let schema = napi_result(ConfigSchema::from_value(config_schema))?;
        let generate_here = generate.create_ref()?;
        // SAFETY: the same function, typed for the threadsafe calls.
        let generate = unsafe { GenerateFn::from_napi_value(env.raw(), generate.raw()) }?;
        let provider = Arc::new(JsProvider::new(
            generate,
            generate_here,
            stream_start,
            stream_next,
            abort,
        ));
        // Weak: the function lives in JS, which the provider's own references keep alive.
        let settling = Arc::downgrade(&provider);
        let settle = env.create_function_from_closure("settle", move |call| {
            let (id, outcome, failed) = call.args::<(u32, String, bool)>()?;
            if let Some(provider) = settling.upgrade() {
                let outcome = if failed { Err(outcome) } else { Ok(outcome) };
                js_thread::in_callback(call.env.raw(), || provider.settle(id, outcome));
            }
            Ok(())
        })?;
        let plugin = LoadedPlugin::external(&name, &provider_name, version, schema, provider);
        napi_result(self.inner.register_external(plugin))?;
        Ok(settle)
    }

    /// The config's `[[plugins]]` entries (seed 004 plugins), paths made absolute.
    #[napi]
    pub fn plugin_entries(&self) -> Vec<crate::sdk::BindingPluginEntry> {
        self.inner.plugin_entries().iter().map(Into::into).collect()
    }

    /// A loaded plugin's config JSON Schema.
    #[napi(ts_return_type = "Record<string, unknown>")]
    pub fn config_schema(&self, name: String) -> napi::Result<Value> {
        napi_result(self.inner.config_schema(&name))
    }

    /// The models a provider offers.
    #[napi]
    pub async fn list_models(
        &self,
        name: String,
        overrides: Option<Value>,
        options: Option<BindingCallOptions>,
    ) -> napi::Result<Vec<String>> {
        let overrides = object_of(overrides)?;
        let options = napi_result(options.unwrap_or_default().into_core(Vec::new()))?;
        napi_result(self.inner.list_models(&name, &overrides, &options).await)
    }

    /// Builds a provider with `overrides` (builder fields) merged into its config.
    #[napi]
    pub async fn build(
        &self,
        name: String,
        overrides: Option<Value>,
    ) -> napi::Result<BindingProvider> {
        let overrides = object_of(overrides)?;
        napi_result(self.inner.build(&name, &overrides).await).map(BindingProvider::new)
    }

    /// Aborts calls in flight and refuses new ones.
    #[napi]
    pub fn close(&self) {
        self.inner.close();
    }
}
