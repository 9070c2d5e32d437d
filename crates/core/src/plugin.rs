//! `LoadedPlugin`: a plugin file loaded and checked, ready to build providers from.
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::config::{ConfigSchema, PluginLocation, ProviderEntry, merge_config};
use crate::error::{ErrorCode, ModelportError, Result};
use crate::external::ExternalProvider;
use crate::http::{HttpEngine, HttpOptions};
use crate::native::{FactoryKind, NativeFactory, NativeLibrary};
use crate::retry::RetryPolicy;
use crate::wasm::{ModuleCache, WasmFactory};

/// How a plugin is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginKind {
    /// A shared library, loaded in-process with dlopen.
    Native,
    /// A Wasm module, run in the Extism sandbox.
    Wasm,
    /// A `modelport/sdk` plugin running in the Node process (registered, not configured).
    Ts,
}

/// What `registry.list()` tells about a loaded plugin.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginInfo {
    /// The name from the config file.
    pub name: String,
    /// How it is run.
    pub kind: PluginKind,
    /// The file it was loaded from.
    pub path: String,
    /// The plugin's own version, when it declares one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The provider name the plugin reports (e.g. `"openai"`).
    pub provider: String,
    /// The environment variable the plugin says its API key is in, if it names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key_name: Option<String>,
    /// The environment variable the host reads this entry's API key from, if any (see
    /// [`api_key_env`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// Whether the host performs its HTTP (`true`) or the plugin works by itself.
    pub host_http: bool,
    /// Wasm only: whether its compilation was served from the on-disk cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compiled_from_cache: Option<bool>,
}

/// The environment variable an entry's API key is read from: the entry's `api_key_env` (`""`:
/// none); else, for a native plugin (unsandboxed: it could read any variable itself), the one
/// the plugin names. A Wasm plugin is never given a variable it chose: a hostile plugin naming
/// another provider's variable would otherwise receive that provider's key.
fn api_key_env(entry: &ProviderEntry, kind: PluginKind, declared: Option<&str>) -> Option<String> {
    match (&entry.api_key_env, kind) {
        (Some(chosen), _) => Some(chosen.clone()).filter(|name| !name.is_empty()),
        (None, PluginKind::Native) => declared.map(String::from),
        // A registered TypeScript plugin has no config entry and reads no variable.
        (None, PluginKind::Ts) => None,
        (None, PluginKind::Wasm) => {
            if let Some(declared) = declared
                && !entry.config.contains_key("api_key")
                && std::env::var_os(declared).is_some()
            {
                log::warn!(
                    "[{}] the plugin names {declared} as its API key variable; a Wasm plugin is given no environment variable its entry does not name: set api_key_env = \"{declared}\" to pass it",
                    entry.name
                );
            }
            None
        }
    }
}

/// Where a loaded plugin's code lives. Field order matters: the factory (plugin code) drops
/// before the library that holds it.
pub(crate) enum PluginSource {
    Native {
        factory: NativeFactory,
        library: Arc<NativeLibrary>,
    },
    Wasm(Arc<WasmFactory>),
    /// Code outside the core (a TypeScript plugin).
    External(Arc<dyn ExternalProvider>),
}

/// A loaded plugin, native or Wasm.
pub struct LoadedPlugin {
    source: PluginSource,
    info: PluginInfo,
    schema: ConfigSchema,
    static_config: Map<String, Value>,
    http: HttpOptions,
    retry: RetryPolicy,
}

impl LoadedPlugin {
    /// Loads the plugin `entry` names; relative paths resolve against `base_dir`; compiled Wasm
    /// goes to `cache`. Blocking: call on the async runtime's blocking pool.
    pub fn load(
        entry: &ProviderEntry,
        base_dir: &Path,
        engine: &HttpEngine,
        cache: Option<&Path>,
    ) -> Result<Self> {
        let name = entry.name.as_str();
        match entry.location(base_dir) {
            PluginLocation::Native(path) => {
                let wasm_only = entry.wasm_only_keys();
                if !wasm_only.is_empty() {
                    return Err(ModelportError::new(
                        ErrorCode::ConfigInvalid,
                        format!("{} only apply to Wasm plugins; a native plugin runs unsandboxed", wasm_only.join(", ")),
                    )
                    .with_plugin(name)
                    .with_path(path));
                }
                Self::load_native(entry, &path)
            }
            PluginLocation::Wasm(path) => {
                let cache = match cache {
                    Some(dir) => ModuleCache::at(dir),
                    None => ModuleCache::default_location(),
                }
                .map_err(|err| err.with_plugin(name))?;
                let factory = WasmFactory::load(name, &path, entry.wasm_sandbox(base_dir), cache, engine)?;
                let schema = ConfigSchema::compile(factory.schema_text()).map_err(|e| e.with_plugin(name).with_path(&path))?;
                let info = PluginInfo {
                    name: name.to_string(),
                    kind: PluginKind::Wasm,
                    path: path.display().to_string(),
                    version: None,
                    provider: factory.provider_name().to_string(),
                    api_key_name: factory.api_key_name().map(String::from),
                    api_key_env: api_key_env(entry, PluginKind::Wasm, factory.api_key_name()),
                    host_http: factory.generation() == crate::wasm::Generation::V2,
                    compiled_from_cache: Some(factory.compiled_from_cache()),
                };
                Ok(Self {
                    source: PluginSource::Wasm(Arc::new(factory)),
                    info,
                    schema,
                    static_config: entry.config.clone(),
                    http: entry.http_options(),
                    retry: entry.retry_policy(),
                })
            }
            PluginLocation::Remote(reference) => Err(ModelportError::new(
                ErrorCode::Unsupported,
                format!("loading plugins from {reference} (OCI or HTTPS) is not supported yet; use a local file"),
            )
            .with_plugin(name)),
        }
    }

    fn load_native(entry: &ProviderEntry, path: &Path) -> Result<Self> {
        let name = entry.name.as_str();
        let (library, factory) = NativeLibrary::open(name, path)?;
        let with_context = |err: ModelportError| err.with_plugin(name).with_path(path);
        let schema =
            ConfigSchema::compile(&factory.info.config_schema.to_string()).map_err(with_context)?;
        let api_key_name = factory.info.api_key_name.clone().filter(|n| !n.is_empty());
        let host_http = factory.kind == FactoryKind::Http;
        let info = PluginInfo {
            name: name.to_string(),
            kind: PluginKind::Native,
            path: path.display().to_string(),
            version: library.plugin_version().map(String::from),
            provider: factory.info.name.clone(),
            api_key_env: api_key_env(entry, PluginKind::Native, api_key_name.as_deref()),
            api_key_name,
            host_http,
            compiled_from_cache: None,
        };
        Ok(Self {
            source: PluginSource::Native { factory, library },
            info,
            schema,
            static_config: entry.config.clone(),
            http: entry.http_options(),
            retry: entry.retry_policy(),
        })
    }

    /// What `registry.list()` shows for it.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// Its config schema.
    pub fn schema(&self) -> &ConfigSchema {
        &self.schema
    }

    /// Its HTTP settings.
    pub fn http_options(&self) -> &HttpOptions {
        &self.http
    }

    /// How its calls are retried.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The library it came from, for a native plugin.
    pub fn library(&self) -> Option<&Arc<NativeLibrary>> {
        match &self.source {
            PluginSource::Native { library, .. } => Some(library),
            PluginSource::Wasm(_) | PluginSource::External(_) => None,
        }
    }

    /// A provider whose code runs outside the core (a TypeScript plugin), registered as `name`.
    /// It was configured when it was initialised: builder fields are accepted and not used.
    pub fn external(
        name: &str,
        provider_name: &str,
        version: Option<String>,
        schema: ConfigSchema,
        provider: Arc<dyn ExternalProvider>,
    ) -> Self {
        Self {
            source: PluginSource::External(provider),
            info: PluginInfo {
                name: name.to_string(),
                kind: PluginKind::Ts,
                path: String::new(),
                version,
                provider: provider_name.to_string(),
                api_key_name: None,
                api_key_env: None,
                host_http: false,
                compiled_from_cache: None,
            },
            schema,
            static_config: Map::new(),
            http: HttpOptions::default(),
            retry: RetryPolicy::default(),
        }
    }

    /// Merges static config, the API key from its env var and `overrides`, then validates the
    /// result against the plugin's schema — before any plugin code sees it.
    pub fn config_for(&self, overrides: &Map<String, Value>) -> Result<Map<String, Value>> {
        let merged = merge_config(
            &self.static_config,
            self.info.api_key_env.as_deref(),
            |var| std::env::var(var).ok(),
            overrides,
        );
        self.validate(merged)
    }

    /// Validates a complete config against the schema.
    pub fn validate(&self, config: Map<String, Value>) -> Result<Map<String, Value>> {
        let value = Value::Object(config);
        self.schema
            .validate(&value)
            .map_err(|err| err.with_plugin(&self.info.name))?;
        let Value::Object(config) = value else {
            unreachable!("built from a map")
        };
        Ok(config)
    }

    /// Where its code lives.
    pub(crate) fn source(&self) -> &PluginSource {
        &self.source
    }
}
