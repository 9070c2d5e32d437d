//! Native and Wasm plugins of seed 004's other kinds as JS sees them: `BindingSdkFactory` (the
//! loaded plugin, its checked manifest) makes a `BindingSdkEmbedder`, a `BindingVectorStore` or a
//! `BindingSdkToolExecutor`. Abort tokens are `call_token`'s; an aborted call stops the plugin's
//! (a native task released, a Wasm call interrupted).
// Only JavaScript calls these: the test build of the binding has no caller.
#![cfg_attr(test, allow(dead_code))]
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use modelport_core::native::open_native_sdk_plugin;
use modelport_core::sdk::{HealthCheckResult, ToolPolicy, ToolRunRequest, ToolRunResult};
use modelport_core::sdk_plugins::{SdkFactory, SdkPlugin, SdkVectorBackend};
use modelport_core::wasm::{ModuleCache, open_wasm_sdk_plugin};
use modelport_core::{ErrorCode, ModelportError, PluginType};
use napi::Env;
use napi::bindgen_prelude::Float32Array;
use napi_derive::napi;
use serde_json::Value;

use crate::call_token::token;
use crate::error::napi_result;
use crate::inline_poll::{Answer, answer};
use crate::provider::BindingHealth;
use crate::sdk::BindingPluginManifest;
use crate::vector_store::BindingVectorStore;

/// `work`, ended with `ABORTED` when the abort token numbered `call_id` fires (dropping `work`
/// releases the plugin's task).
async fn abortable<T>(
    call_id: Option<u32>,
    what: &str,
    work: impl Future<Output = modelport_core::Result<T>>,
) -> napi::Result<T> {
    let cancel = token(call_id).unwrap_or_default();
    napi_result(tokio::select! {
        biased;
        () = cancel.cancelled() => Err(ModelportError::aborted(format!("{what} was aborted"))),
        done = work => done,
    })
}

fn health(result: modelport_core::Result<HealthCheckResult>) -> BindingHealth {
    match result {
        Ok(result) => BindingHealth {
            healthy: result.healthy,
            message: result.message.unwrap_or_default(),
            code: None,
        },
        Err(err) => BindingHealth {
            healthy: false,
            message: err.message.clone(),
            code: Some(err.code.as_str()),
        },
    }
}

/// A loaded SDK plugin (native or Wasm) and its checked manifest.
#[napi]
pub struct BindingSdkFactory {
    inner: Arc<SdkFactory>,
}

#[napi]
impl BindingSdkFactory {
    /// Loads the plugin at `path` (registered as `name`): a native library (its ABI descriptor,
    /// its `plugin_sdk_factory`) or an Extism module (`.wasm`, in the default sandbox); then its
    /// manifest, checked like a TypeScript plugin's.
    #[napi(factory)]
    pub fn open(name: String, path: String) -> napi::Result<BindingSdkFactory> {
        let path = Path::new(&path);
        let wasm = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("wasm"));
        let factory = if wasm {
            ModuleCache::default_location()
                .and_then(|cache| open_wasm_sdk_plugin(&name, path, cache))
        } else {
            open_native_sdk_plugin(&name, path)
        };
        Ok(Self {
            inner: Arc::new(napi_result(factory)?),
        })
    }

    #[napi]
    pub fn manifest(&self) -> BindingPluginManifest {
        self.inner.manifest().clone().into()
    }

    fn init(&self, config: Value, kind: PluginType) -> napi::Result<SdkPlugin> {
        let plugin = napi_result(self.inner.init(&config))?;
        if plugin.kind() != kind {
            return napi_result(Err(ModelportError::new(
                ErrorCode::PluginInvalid,
                format!(
                    "the plugin is a {}, not a {}",
                    plugin.kind().as_str(),
                    kind.as_str()
                ),
            )
            .with_plugin(&self.inner.manifest().name)));
        }
        Ok(plugin)
    }

    /// The configured embedder (the config checked against the manifest's schema first).
    #[napi]
    pub fn init_embedder(
        &self,
        #[napi(ts_arg_type = "Record<string, unknown>")] config: Value,
    ) -> napi::Result<BindingSdkEmbedder> {
        let plugin = self.init(config, PluginType::Embedder)?;
        Ok(BindingSdkEmbedder {
            inner: Arc::new(plugin),
        })
    }

    /// The configured vector backend.
    #[napi]
    pub fn init_vector_backend(
        &self,
        #[napi(ts_arg_type = "Record<string, unknown>")] config: Value,
    ) -> napi::Result<BindingVectorStore> {
        let plugin = self.init(config, PluginType::VectorBackend)?;
        let backend = napi_result(SdkVectorBackend::new(plugin))?;
        Ok(BindingVectorStore::new(Arc::new(backend)))
    }

    /// The configured tool executor.
    #[napi]
    pub fn init_tool_executor(
        &self,
        #[napi(ts_arg_type = "Record<string, unknown>")] config: Value,
    ) -> napi::Result<BindingSdkToolExecutor> {
        let plugin = self.init(config, PluginType::ToolExecutor)?;
        Ok(BindingSdkToolExecutor {
            inner: Arc::new(plugin),
        })
    }
}

/// An embedder plugin (native or Wasm).
#[napi]
pub struct BindingSdkEmbedder {
    inner: Arc<SdkPlugin>,
}

#[napi]
impl BindingSdkEmbedder {
    #[napi]
    pub fn dims(&self) -> napi::Result<u32> {
        napi_result(self.inner.dims()).map(|dims| u32::try_from(dims).unwrap_or(u32::MAX))
    }

    #[napi]
    pub fn embed_texts<'env>(
        &self,
        env: &'env Env,
        texts: Vec<String>,
        call_id: Option<u32>,
    ) -> napi::Result<Answer<'env, Vec<Float32Array>>> {
        let plugin = self.inner.clone();
        answer(env, async move {
            let vectors = abortable(call_id, "embedTexts()", plugin.embed_texts(texts)).await?;
            Ok(vectors.into_iter().map(Float32Array::new).collect())
        })
    }

    #[napi]
    pub fn health_check<'env>(&self, env: &'env Env) -> napi::Result<Answer<'env, BindingHealth>> {
        let plugin = self.inner.clone();
        answer(env, async move { Ok(health(plugin.health_check().await)) })
    }

    #[napi]
    pub fn shutdown<'env>(&self, env: &'env Env) -> napi::Result<Answer<'env, ()>> {
        let plugin = self.inner.clone();
        answer(env, async move { napi_result(plugin.shutdown().await) })
    }
}

/// A command to run (seed 004's `ToolRunRequest`).
#[napi(object)]
pub struct BindingToolRunRequest {
    pub command: String,
    pub args: Option<Vec<String>>,
    pub cwd: Option<String>,
    pub env: Option<HashMap<String, String>>,
    pub timeout_ms: Option<f64>,
    pub stdin: Option<String>,
}

/// What a tool executor may do (seed 004's `ToolPolicy`).
#[napi(object)]
pub struct BindingToolPolicy {
    pub enabled: bool,
    pub allowed_commands: Option<Vec<String>>,
    pub working_directory: Option<String>,
    pub allowed_env: Option<Vec<String>>,
    pub timeout_ms: Option<f64>,
    pub max_output_bytes: Option<f64>,
    pub cpu_seconds: Option<f64>,
    pub memory_bytes: Option<f64>,
}

/// How a command ended (seed 004's `ToolRunResult`).
#[napi(object, object_from_js = false)]
pub struct BindingToolRunResult {
    pub exit_code: i32,
    pub duration_ms: f64,
    pub stdout_path: String,
    pub stderr_path: String,
    pub truncated: bool,
    pub signal: Option<String>,
}

/// A JS number as a count (negative and fractional parts dropped).
fn whole(value: Option<f64>) -> Option<u64> {
    value.map(|v| v.max(0.0) as u64)
}

impl From<BindingToolRunRequest> for ToolRunRequest {
    fn from(request: BindingToolRunRequest) -> Self {
        Self {
            command: request.command,
            args: request.args.unwrap_or_default(),
            cwd: request.cwd,
            env: request.env,
            timeout_ms: whole(request.timeout_ms),
            stdin: request.stdin,
        }
    }
}

impl From<BindingToolPolicy> for ToolPolicy {
    fn from(policy: BindingToolPolicy) -> Self {
        Self {
            enabled: policy.enabled,
            allowed_commands: policy.allowed_commands,
            working_directory: policy.working_directory,
            allowed_env: policy.allowed_env,
            timeout_ms: whole(policy.timeout_ms),
            max_output_bytes: whole(policy.max_output_bytes),
            cpu_seconds: whole(policy.cpu_seconds),
            memory_bytes: whole(policy.memory_bytes),
        }
    }
}

impl From<ToolRunResult> for BindingToolRunResult {
    fn from(result: ToolRunResult) -> Self {
        Self {
            exit_code: result.exit_code,
            duration_ms: result.duration_ms,
            stdout_path: result.stdout_path,
            stderr_path: result.stderr_path,
            truncated: result.truncated,
            signal: result.signal,
        }
    }
}

/// A tool executor plugin (native).
#[napi]
pub struct BindingSdkToolExecutor {
    inner: Arc<SdkPlugin>,
}

#[napi]
impl BindingSdkToolExecutor {
    #[napi]
    pub fn execute<'env>(
        &self,
        env: &'env Env,
        request: BindingToolRunRequest,
        policy: BindingToolPolicy,
        call_id: Option<u32>,
    ) -> napi::Result<Answer<'env, BindingToolRunResult>> {
        let plugin = self.inner.clone();
        let (request, policy) = (request.into(), policy.into());
        answer(env, async move {
            let result = abortable(call_id, "execute()", plugin.execute(request, policy)).await?;
            Ok(result.into())
        })
    }

    #[napi]
    pub fn is_allowed(&self, command: String, policy: BindingToolPolicy) -> napi::Result<bool> {
        napi_result(self.inner.is_allowed(command, policy.into()))
    }

    #[napi]
    pub fn health_check<'env>(&self, env: &'env Env) -> napi::Result<Answer<'env, BindingHealth>> {
        let plugin = self.inner.clone();
        answer(env, async move { Ok(health(plugin.health_check().await)) })
    }

    #[napi]
    pub fn shutdown<'env>(&self, env: &'env Env) -> napi::Result<Answer<'env, ()>> {
        let plugin = self.inner.clone();
        answer(env, async move { napi_result(plugin.shutdown().await) })
    }
}
