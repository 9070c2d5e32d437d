//! `Registry`: the configured plugins, loaded on demand, and the providers built from them.
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::backend::Backend;
use crate::call::{CallOptions, CallScope};
use crate::config::{PluginEntry, PluginLocation, ProviderEntry, RegistryConfig};
use crate::error::{ErrorCode, ModelportError, Result};
use crate::http::HttpEngine;
use crate::plugin::{LoadedPlugin, PluginInfo, PluginKind};
use crate::provider::Provider;

/// The outcome of loading one plugin, as `loadAll()` reports it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadReport {
    /// The plugin's config name.
    pub name: String,
    /// How it is (or would be) run; `None` for remote references.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<PluginKind>,
    /// The resolved path or reference.
    pub path: String,
    /// Whether it loaded.
    pub ok: bool,
    /// Why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ModelportError>,
}

/// A set of configured plugins. Cheap to clone (shared).
#[derive(Clone)]
pub struct Registry {
    inner: Arc<RegistryInner>,
}

struct RegistryInner {
    entries: Vec<ProviderEntry>,
    /// Seed 004's plugins, their paths resolved against `base_dir`.
    plugins: Vec<PluginEntry>,
    base_dir: PathBuf,
    cache_dir: Option<PathBuf>,
    loaded: Mutex<HashMap<String, Arc<LoadedPlugin>>>,
    /// One lock per name: a name's plugin is loaded once, however many ask at once, and a slow
    /// load (a large Wasm compile) holds up no other name's.
    load_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    engine: HttpEngine,
    shutdown: CancellationToken,
}

impl Registry {
    /// Reads a config file; relative plugin paths resolve against its folder.
    pub fn from_file(path: &Path) -> Result<Self> {
        let config = RegistryConfig::from_file(path)?;
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let base_dir = absolute.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(Self::from_config(config, base_dir))
    }

    /// Uses an in-memory config; relative plugin paths resolve against `base_dir`.
    pub fn from_config(config: RegistryConfig, base_dir: PathBuf) -> Self {
        Self {
            inner: Arc::new(RegistryInner {
                entries: config.providers,
                plugins: config
                    .plugins
                    .into_iter()
                    .map(|mut entry| {
                        // `modelport:<name>` names a plugin modelport ships, not a file.
                        if !entry.path.starts_with("modelport:") {
                            entry.path = base_dir.join(&entry.path).display().to_string();
                        }
                        entry
                    })
                    .collect(),
                cache_dir: config.cache_dir.map(|dir| base_dir.join(dir)),
                base_dir,
                loaded: Mutex::new(HashMap::new()),
                load_locks: Mutex::new(HashMap::new()),
                engine: HttpEngine::new(),
                shutdown: CancellationToken::new(),
            }),
        }
    }

    fn entry(&self, name: &str) -> Result<&ProviderEntry> {
        self.inner
            .entries
            .iter()
            .find(|entry| entry.name == name)
            .ok_or_else(|| {
                let known: Vec<&str> = self.inner.entries.iter().map(|e| e.name.as_str()).collect();
                ModelportError::new(
                    ErrorCode::PluginNotFound,
                    format!(
                        "no provider named '{name}' in the config (configured: {})",
                        known.join(", ")
                    ),
                )
                .with_plugin(name)
            })
    }

    fn loaded(&self, name: &str) -> Option<Arc<LoadedPlugin>> {
        self.inner
            .loaded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
    }

    fn check_open(&self) -> Result<()> {
        if self.inner.shutdown.is_cancelled() {
            return Err(ModelportError::aborted("the registry was closed"));
        }
        Ok(())
    }

    /// Loads one plugin (once; later calls return the loaded one).
    pub async fn load(&self, name: &str) -> Result<Arc<LoadedPlugin>> {
        self.check_open()?;
        // A registered plugin has no config entry.
        if let Some(plugin) = self.loaded(name) {
            return Ok(plugin);
        }
        let entry = self.entry(name)?.clone();
        let lock = self
            .inner
            .load_locks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(name.to_string())
            .or_default()
            .clone();
        let _guard = lock.lock().await;
        if let Some(plugin) = self.loaded(name) {
            return Ok(plugin);
        }
        let base_dir = self.inner.base_dir.clone();
        let cache_dir = self.inner.cache_dir.clone();
        let engine = self.inner.engine.clone();
        let plugin = tokio::task::spawn_blocking(move || {
            LoadedPlugin::load(&entry, &base_dir, &engine, cache_dir.as_deref())
        })
        .await
        .map_err(|err| {
            ModelportError::new(ErrorCode::PluginLoadFailed, "the loading task failed")
                .with_cause(err)
        })??;
        let plugin = Arc::new(plugin);
        self.inner
            .loaded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_string(), plugin.clone());
        Ok(plugin)
    }

    /// Loads every configured plugin, all at once; one failure does not stop the others.
    /// Reports come in config order.
    pub async fn load_all(&self) -> Vec<LoadReport> {
        let reports = self.inner.entries.iter().map(|entry| async move {
            let (kind, path) = match entry.location(&self.inner.base_dir) {
                PluginLocation::Native(path) => {
                    (Some(PluginKind::Native), path.display().to_string())
                }
                PluginLocation::Wasm(path) => (Some(PluginKind::Wasm), path.display().to_string()),
                PluginLocation::Remote(reference) => (None, reference),
            };
            let outcome = self.load(&entry.name).await;
            LoadReport {
                name: entry.name.clone(),
                kind,
                path,
                ok: outcome.is_ok(),
                error: outcome.err(),
            }
        });
        futures::future::join_all(reports).await
    }

    /// Adds a provider whose code runs outside the core (a TypeScript plugin) as `name`; its
    /// providers are built with `build(name, …)` like any other. `CONFIG_INVALID` if the name is
    /// taken.
    pub fn register_external(&self, plugin: LoadedPlugin) -> Result<()> {
        self.check_open()?;
        let name = plugin.info().name.clone();
        let mut loaded = self.inner.loaded.lock().unwrap_or_else(|p| p.into_inner());
        if loaded.contains_key(&name) || self.names().contains(&name) {
            return Err(ModelportError::new(
                ErrorCode::ConfigInvalid,
                format!("a plugin named '{name}' is already in this registry"),
            )
            .with_plugin(&name));
        }
        loaded.insert(name, Arc::new(plugin));
        Ok(())
    }

    /// The names of the configured providers and plugins, in config order (loaded or not).
    pub fn names(&self) -> Vec<String> {
        let providers = self.inner.entries.iter().map(|e| e.name.clone());
        providers
            .chain(self.inner.plugins.iter().map(|e| e.name.clone()))
            .collect()
    }

    /// Seed 004's plugin entries (`[[plugins]]`), in config order, with absolute paths.
    pub fn plugin_entries(&self) -> &[PluginEntry] {
        &self.inner.plugins
    }

    /// The loaded plugins, in config order.
    pub fn list(&self) -> Vec<PluginInfo> {
        self.inner
            .entries
            .iter()
            .filter_map(|e| self.loaded(&e.name))
            .map(|p| p.info().clone())
            .collect()
    }

    /// A loaded plugin's config JSON Schema.
    pub fn config_schema(&self, name: &str) -> Result<Value> {
        // A registered (TypeScript) provider is loaded without a config entry.
        if let Some(plugin) = self.loaded(name) {
            return Ok(plugin.schema().schema().clone());
        }
        self.entry(name)?;
        let plugin = self.loaded(name).ok_or_else(|| {
            ModelportError::new(
                ErrorCode::PluginNotFound,
                format!("provider '{name}' is not loaded; call loadAll() first"),
            )
            .with_plugin(name)
        })?;
        Ok(plugin.schema().schema().clone())
    }

    /// The models a provider offers, with its config merged with `overrides`.
    pub async fn list_models(
        &self,
        name: &str,
        overrides: &Map<String, Value>,
        options: &CallOptions,
    ) -> Result<Vec<String>> {
        let scope = CallScope::new(name, options, &self.inner.shutdown);
        let plugin = scope.run(self.load(name)).await?;
        let config = plugin.config_for(overrides)?;
        let policy = plugin.retry_policy().with_max_retries(options.max_retries);
        let backend = scope
            .run(Backend::new(
                &plugin,
                &config,
                &self.inner.engine,
                &self.inner.shutdown,
            ))
            .await?;
        scope.run(policy.run(|| backend.list_models())).await
    }

    /// Builds a provider: static config → API key from env → `overrides` → schema check → `from_config`.
    pub async fn build(&self, name: &str, overrides: &Map<String, Value>) -> Result<Provider> {
        let plugin = self.load(name).await?;
        let config = plugin.config_for(overrides)?;
        Provider::new(
            plugin,
            config,
            self.inner.engine.clone(),
            self.inner.shutdown.clone(),
        )
        .await
    }

    /// Ends every call in flight with `ABORTED` and refuses new ones. Idempotent.
    pub fn close(&self) {
        self.inner.shutdown.cancel();
        self.inner
            .loaded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Whether `close()` was called.
    pub fn is_closed(&self) -> bool {
        self.inner.shutdown.is_cancelled()
    }
}
