//! `ExtismPlugin.load` options → the core's `WasmOptions` and module cache.
use std::collections::HashMap;
use std::path::PathBuf;

use modelport_core::ModelportError;
use modelport_core::wasm::{ModuleCache, Sandbox, WasmOptions};
use napi_derive::napi;

/// Sandbox settings of a raw Extism plugin; everything is denied unless granted here.
#[napi(object)]
#[derive(Default)]
pub struct BindingWasmOptions {
    /// Extism config the plugin reads with `config_get`.
    pub config: Option<HashMap<String, String>>,
    /// Hosts reachable through modelport's HTTP host functions (none by default).
    pub allowed_hosts: Option<Vec<String>>,
    /// Host folder → guest path (WASI only), writable by the plugin; a host folder prefixed `ro:` is read-only.
    pub allowed_paths: Option<HashMap<String, String>>,
    /// Longest a call may run, in ms (default 30000; 0 = no limit).
    pub timeout_ms: Option<u32>,
    /// Largest linear memory, in 64 KiB pages (default 1024 = 64 MiB).
    pub max_pages: Option<u32>,
    /// Give the plugin WASI (default false).
    pub wasi: Option<bool>,
    /// Compiled-module cache folder (default `$MODELPORT_CACHE_DIR` or the user cache folder).
    pub cache_dir: Option<String>,
    /// Largest HTTP response body `http_request` accepts (default 64 MiB).
    pub max_http_response_bytes: Option<f64>,
    /// Most bytes the plugin's vars may hold together (default 1 MiB).
    pub max_var_bytes: Option<f64>,
    /// The sha256 (hex) the module must have (an Extism manifest's `hash`), checked before compiling.
    pub sha256: Option<String>,
    /// The plugin's WASI stdout and stderr go to this process's (default false: discarded); needs `wasi`.
    pub enable_wasi_output: Option<bool>,
}

impl BindingWasmOptions {
    /// The sandbox and the cache these options describe.
    pub fn into_core(self) -> Result<(WasmOptions, ModuleCache), ModelportError> {
        let defaults = Sandbox::default();
        let sandbox = Sandbox {
            allowed_hosts: self.allowed_hosts.unwrap_or_default(),
            allowed_paths: self
                .allowed_paths
                .unwrap_or_default()
                .into_iter()
                .map(|(host, guest)| (host, PathBuf::from(guest)))
                .collect(),
            timeout: Sandbox::timeout_from_ms(self.timeout_ms.map(u64::from)),
            max_pages: self.max_pages.unwrap_or(defaults.max_pages),
            wasi: self.wasi.unwrap_or(false),
        };
        let options = WasmOptions {
            config: self.config.unwrap_or_default().into_iter().collect(),
            sandbox,
            max_http_response_bytes: self.max_http_response_bytes.map(|n| n as u64),
            max_var_bytes: self.max_var_bytes.map(|n| n as u64),
            module_sha256: self.sha256,
            wasi_output: self.enable_wasi_output.unwrap_or(false),
        };
        let cache = match self.cache_dir {
            Some(dir) => ModuleCache::at(dir)?,
            None => ModuleCache::default_location()?,
        };
        Ok((options, cache))
    }
}
