//! The on-disk cache of compiled Wasm modules (wasmtime's cache, keyed by a hash of the module
//! and the compiler settings), in the user's cache folder unless configured otherwise.
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{ErrorCode, ModelportError, Result};

/// Environment variable that moves the cache (`MODELPORT_CACHE_DIR=/path`).
pub const CACHE_DIR_VAR: &str = "MODELPORT_CACHE_DIR";

/// Where compiled modules are kept, and the wasmtime cache config pointing there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleCache {
    directory: PathBuf,
    config_file: PathBuf,
}

impl ModuleCache {
    /// The cache in `directory` (created if missing).
    pub fn at(directory: impl Into<PathBuf>) -> Result<Self> {
        let directory = std::path::absolute(directory.into())
            .map_err(|err| cache_error("cannot resolve the cache folder", err))?;
        let modules = directory.join("modules");
        std::fs::create_dir_all(&modules).map_err(|err| {
            cache_error("cannot create the cache folder", err).with_path(&modules)
        })?;
        let config_file = directory.join("wasmtime-cache.toml");
        let config = format!("[cache]\ndirectory = {}\n", toml_string(&modules));
        if std::fs::read_to_string(&config_file).ok().as_deref() != Some(config.as_str()) {
            std::fs::write(&config_file, config).map_err(|err| {
                cache_error("cannot write the cache config", err).with_path(&config_file)
            })?;
        }
        Ok(Self {
            directory,
            config_file,
        })
    }

    /// `$MODELPORT_CACHE_DIR`, else `<user cache dir>/modelport/wasm`.
    pub fn default_location() -> Result<Self> {
        match std::env::var_os(CACHE_DIR_VAR) {
            Some(dir) if !dir.is_empty() => Self::at(PathBuf::from(dir)),
            _ => {
                let base = dirs::cache_dir().ok_or_else(|| {
                    ModelportError::new(
                        ErrorCode::PluginLoadFailed,
                        format!("no user cache folder: set {CACHE_DIR_VAR}"),
                    )
                })?;
                Self::at(base.join("modelport").join("wasm"))
            }
        }
    }

    /// The cache folder.
    pub fn directory(&self) -> &Path {
        &self.directory
    }

    /// The wasmtime cache config file.
    pub fn config_file(&self) -> &Path {
        &self.config_file
    }

    /// Compiles `module` (binary Wasm or WAT) through this cache with the engine settings Extism
    /// gives each instance, and says whether wasmtime served it from the cache (its own hit
    /// accounting). A miss leaves the compiled module in the cache, so the instances built next
    /// load it from there. `None` when wasmtime cannot compile the module or the cache cannot be
    /// opened: the instance build that follows reports why.
    pub fn compile_cached(&self, module: &[u8]) -> Option<bool> {
        let lookup = CacheLookup::for_config(&self.config_file)?;
        // One compilation at a time per cache folder: the hit counter is the folder's.
        let engine = lookup.engine.lock().unwrap_or_else(|e| e.into_inner());
        let hits = lookup.cache.cache_hits();
        wasmtime::Module::new(&engine, module).ok()?;
        Some(lookup.cache.cache_hits() > hits)
    }
}

/// wasmtime's cache of one folder, with an engine configured as Extism configures the engine of
/// each plugin instance (see [`extism_engine_config`]): both hash a module to the same entry.
struct CacheLookup {
    cache: wasmtime::Cache,
    engine: Mutex<wasmtime::Engine>,
}

impl CacheLookup {
    /// The lookup for a cache config file, made once per process (each wasmtime `Cache` starts a
    /// worker thread of its own).
    fn for_config(config_file: &Path) -> Option<Arc<Self>> {
        static LOOKUPS: OnceLock<Mutex<HashMap<PathBuf, Arc<CacheLookup>>>> = OnceLock::new();
        let mut lookups = LOOKUPS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(lookup) = lookups.get(config_file) {
            return Some(lookup.clone());
        }
        let cache = wasmtime::Cache::from_file(Some(config_file))
            .map_err(|err| {
                log::warn!(
                    "cannot open the Wasm cache {}: {err}",
                    config_file.display()
                )
            })
            .ok()?;
        let mut config = extism_engine_config();
        config.cache(Some(cache.clone()));
        let engine = wasmtime::Engine::new(&config)
            .map_err(|err| log::warn!("cannot make the Wasm cache lookup engine: {err}"))
            .ok()?;
        let lookup = Arc::new(Self {
            cache,
            engine: Mutex::new(engine),
        });
        lookups.insert(config_file.to_path_buf(), lookup.clone());
        Some(lookup)
    }
}

/// The compiler settings extism 1.30's `CompiledPlugin::new` gives every instance's engine
/// without debug options, profiling or fuel (modelport uses none of them). They are part of the
/// cache key: `the_cache_lookup_and_extism_share_entries` (tests/wasm_raw.rs) fails if they drift.
fn extism_engine_config() -> wasmtime::Config {
    let mut config = wasmtime::Config::default();
    config
        .epoch_interruption(true)
        .debug_info(false)
        .coredump_on_trap(false)
        .profiler(wasmtime::ProfilingStrategy::None)
        .wasm_tail_call(true)
        .wasm_function_references(true)
        .wasm_gc(true);
    config
}

fn toml_string(path: &Path) -> String {
    serde_json::to_string(&path.display().to_string()).expect("a string serializes")
}

fn cache_error(what: &str, err: impl std::fmt::Display) -> ModelportError {
    ModelportError::new(ErrorCode::PluginLoadFailed, what).with_cause(err)
}
