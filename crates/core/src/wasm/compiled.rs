//! `CompiledWasm`: a checked Wasm module with its sandbox, ready to make instances.
use std::path::{Path, PathBuf};

use extism::{Function, Manifest, Plugin, PluginBuilder, Wasm};

use super::call_error::{load_error, startup_error};
use super::limits::bound_limits;
use super::module_cache::ModuleCache;
use super::options::WasmOptions;
use super::startup::{DeferredStartup, defer_startup};
use crate::error::{ErrorCode, ModelportError, Result};

/// A Wasm module, its sandbox and its host functions. Each [`CompiledWasm::instantiate`] builds
/// an instance with its own engine; wasmtime's disk cache serves every compilation after the first.
pub struct CompiledWasm {
    manifest: Manifest,
    startup: DeferredStartup,
    wasi: bool,
    wasi_output: bool,
    cache: ModuleCache,
    path: Option<PathBuf>,
    compiled_from_cache: bool,
}

/// Why `bytes` cannot be a Wasm module, if that shows in its first bytes.
fn precheck(bytes: &[u8]) -> Option<&'static str> {
    if bytes.is_empty() {
        return Some("the file is empty");
    }
    let text_start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| &bytes[i..]);
    let is_wat =
        text_start.is_some_and(|rest| rest.starts_with(b"(module") || rest.starts_with(b";;"));
    if !bytes.starts_with(b"\0asm") && !is_wat {
        return Some("not a Wasm module (no \\0asm header)");
    }
    None
}

/// `err`, naming the module's file when it came from one.
fn located(err: ModelportError, path: Option<&Path>) -> ModelportError {
    match path {
        Some(path) => err.with_path(path),
        None => err,
    }
}

impl CompiledWasm {
    /// Checks and compiles `bytes` (binary Wasm or WAT text) once, through the cache, and returns
    /// the recipe with its first instance, linked to `functions`. Blocking.
    pub fn compile(
        bytes: Vec<u8>,
        options: &WasmOptions,
        functions: Vec<Function>,
        cache: ModuleCache,
        path: Option<&Path>,
    ) -> Result<(Self, Plugin)> {
        if options.wasi_output && !options.sandbox.wasi {
            return Err(located(
                ModelportError::new(
                    ErrorCode::ConfigInvalid,
                    "WASI output (enableWasiOutput) needs WASI (wasi: true)",
                ),
                path,
            ));
        }
        if let Some(reason) = precheck(&bytes) {
            return Err(located(
                ModelportError::new(ErrorCode::PluginLoadFailed, reason),
                path,
            ));
        }
        let (bytes, startup) = defer_startup(bytes).map_err(|err| located(err, path))?;
        let bounded =
            bound_limits(bytes, options.sandbox.max_pages).map_err(|err| located(err, path))?;
        let compiled_from_cache = cache.compile_cached(&bounded.bytes).unwrap_or(false);
        let mut manifest = Manifest::new([Wasm::data(bounded.bytes)])
            .with_memory_max(bounded.growth_pages)
            .with_config(options.config.clone().into_iter())
            .with_allowed_hosts(options.sandbox.allowed_hosts.clone().into_iter())
            .with_allowed_paths(options.sandbox.allowed_paths.clone().into_iter());
        if let Some(timeout) = options.sandbox.timeout {
            manifest = manifest.with_timeout(timeout);
        }
        if let Some(bytes) = options.max_var_bytes {
            manifest.memory.max_var_bytes = Some(bytes);
        }
        let compiled = Self {
            manifest,
            startup,
            wasi: options.sandbox.wasi,
            wasi_output: options.wasi_output,
            cache,
            path: path.map(Path::to_path_buf),
            compiled_from_cache,
        };
        let first = compiled.instantiate(functions)?;
        Ok((compiled, first))
    }

    /// A new, independent instance (own engine, store and memory) linked to `functions`, its
    /// start-up code run under the call timeout.
    pub fn instantiate(&self, functions: Vec<Function>) -> Result<Plugin> {
        let path = self.path.as_deref();
        let mut plugin = PluginBuilder::new(self.manifest.clone())
            .with_wasi(self.wasi)
            .with_wasi_output(self.wasi_output)
            .with_cache_config(self.cache.config_file())
            .with_functions(functions)
            .build()
            .map_err(|err| located(load_error(err), path))?;
        for function in self.startup.functions() {
            plugin
                .call::<&[u8], &[u8]>(function, b"")
                .map_err(|err| located(startup_error(err), path))?;
        }
        Ok(plugin)
    }

    /// Whether the module was found compiled in the disk cache when it was loaded (wasmtime's own
    /// hit accounting; see [`ModuleCache::compile_cached`]).
    pub fn compiled_from_cache(&self) -> bool {
        self.compiled_from_cache
    }

    /// The file the module came from, if it came from one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}
