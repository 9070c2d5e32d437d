//! The on-disk cache of compiled Wasm modules (wasmtime's cache, keyed by a hash of the module
//! and the compiler settings), in the user's cache folder unless configured otherwise.
use std::path::{Path, PathBuf};

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

    /// How many compiled modules the cache holds (wasmtime writes them synchronously, so a
    /// compilation that added none was served from the cache).
    pub fn entry_count(&self) -> usize {
        fn count(dir: &Path) -> usize {
            std::fs::read_dir(dir)
                .map(|entries| {
                    entries
                        .flatten()
                        .map(|entry| {
                            let path = entry.path();
                            if path.is_dir() {
                                count(&path)
                            } else if path.extension().is_none_or(|ext| ext != "stats") {
                                1
                            } else {
                                0
                            }
                        })
                        .sum()
                })
                .unwrap_or(0)
        }
        count(&self.directory.join("modules"))
    }
}

fn toml_string(path: &Path) -> String {
    serde_json::to_string(&path.display().to_string()).expect("a string serializes")
}

fn cache_error(what: &str, err: impl std::fmt::Display) -> ModelportError {
    ModelportError::new(ErrorCode::PluginLoadFailed, what).with_cause(err)
}
