//! The Extism (Wasm) runtime of SDK plugins (embedder, vector backend, tool executor): a module
//! exporting `manifest`, `init` and its kind's functions (`embed_texts`, `vector_query`, …: see
//! [`SdkOp::export`]), JSON in and out, run in the default sandbox (no network, no files, no WASI,
//! 30 s per call, 64 MiB). A call that traps or times out replaces the instance; the fresh one is
//! `init`ed again with the same config before it serves anything.
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::module_cache::ModuleCache;
use super::options::WasmOptions;
use super::raw_plugin::{RawHost, RawWasmPlugin};
use crate::error::{ErrorCode, ModelportError, Result};
use crate::manifest::PluginType;
use crate::sdk_plugins::{SdkFactory, SdkFactoryTransport, SdkOp, SdkTransport};

struct WasmSdkFactory {
    plugin: Arc<RawWasmPlugin>,
    name: String,
    path: PathBuf,
}

/// Loads the Wasm SDK plugin at `path` (registered as `name`) and checks its manifest. Blocking.
pub fn open_wasm_sdk_plugin(name: &str, path: &Path, cache: ModuleCache) -> Result<SdkFactory> {
    let plugin =
        RawWasmPlugin::load_file(path, &WasmOptions::default(), cache, &RawHost::default())
            .map_err(|err| err.with_plugin(name).with_path(path))?;
    let factory = WasmSdkFactory {
        plugin: Arc::new(plugin),
        name: name.to_string(),
        path: path.to_path_buf(),
    };
    let factory = SdkFactory::new(Box::new(factory), path)?;
    if factory.manifest().kind == PluginType::ToolExecutor {
        // Running commands needs processes, which the sandbox exists to deny.
        return Err(ModelportError::new(
            ErrorCode::Unsupported,
            "a Wasm plugin cannot be a tool executor: the sandbox runs no processes (write it in \
             TypeScript or as a native library)",
        )
        .with_plugin(name)
        .with_path(path));
    }
    Ok(factory)
}

impl WasmSdkFactory {
    fn missing(&self, export: &str) -> ModelportError {
        ModelportError::new(
            ErrorCode::PluginLoadFailed,
            format!("the module exports no {export} function"),
        )
        .with_plugin(&self.name)
        .with_path(&self.path)
    }
}

impl SdkFactoryTransport for WasmSdkFactory {
    fn manifest(&self) -> Result<Value> {
        if !self.plugin.function_exists("manifest")? {
            return Err(self.missing("manifest"));
        }
        let bytes = self
            .plugin
            .call("manifest", &[])
            .map_err(|err| err.with_plugin(&self.name))?;
        serde_json::from_slice(&bytes).map_err(|err| {
            ModelportError::new(
                ErrorCode::PluginInvalid,
                "the plugin's manifest is not JSON",
            )
            .with_plugin(&self.name)
            .with_json_path("manifest")
            .with_cause(err)
        })
    }

    fn init(&self, config: &Value) -> Result<Box<dyn SdkTransport>> {
        if !self.plugin.function_exists("init")? {
            return Err(self.missing("init"));
        }
        let text = serde_json::to_vec(config).expect("JSON values serialize");
        self.plugin
            .call("init", &text)
            .map_err(|err| err.with_plugin(&self.name))?;
        let name = self.name.clone();
        self.plugin.set_instance_setup(Box::new(move |instance| {
            instance
                .call::<&[u8], &[u8]>("init", &text)
                .map(drop)
                .map_err(|err| {
                    ModelportError::new(ErrorCode::PluginError, "init of a fresh instance failed")
                        .with_plugin(&name)
                        .with_cause(err)
                })
        }));
        // A module's exports never change: read them once, not under the instance's lock on
        // every call (which would wait for a running call, on the JS thread at that).
        let mut exports = Vec::new();
        for op in SdkOp::ALL {
            if self.plugin.function_exists(op.export())? {
                exports.push(op);
            }
        }
        Ok(Box::new(WasmSdkTransport {
            plugin: self.plugin.clone(),
            name: self.name.clone(),
            exports,
        }))
    }
}

struct WasmSdkTransport {
    plugin: Arc<RawWasmPlugin>,
    name: String,
    /// The operations the module exports.
    exports: Vec<SdkOp>,
}

/// Interrupts a Wasm call when its caller stops waiting.
struct CancelOnDrop {
    plugin: Arc<RawWasmPlugin>,
    id: super::raw_plugin::CallId,
    done: bool,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if !self.done {
            self.plugin.cancel(self.id);
        }
    }
}

#[async_trait]
impl SdkTransport for WasmSdkTransport {
    fn plugin(&self) -> &str {
        &self.name
    }

    async fn call(&self, op: SdkOp, input: Vec<u8>) -> Result<Option<Vec<u8>>> {
        if !self.exports.contains(&op) {
            return Ok(None);
        }
        let plugin = self.plugin.clone();
        let id = plugin.new_call();
        let mut guard = CancelOnDrop {
            plugin: plugin.clone(),
            id,
            done: false,
        };
        let export = op.export();
        let outcome = plugin.call_queued(id, export.to_string(), input).await;
        guard.done = true;
        outcome.map(Some).map_err(|err| err.with_plugin(&self.name))
    }

    fn call_sync(&self, op: SdkOp, input: &[u8]) -> Result<Option<Vec<u8>>> {
        if !self.exports.contains(&op) {
            return Ok(None);
        }
        self.plugin
            .call(op.export(), input)
            .map(Some)
            .map_err(|err| err.with_plugin(&self.name))
    }
}

impl Drop for WasmSdkTransport {
    fn drop(&mut self) {
        self.plugin.close();
    }
}
