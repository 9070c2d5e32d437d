//! Native plugins of seed 004's other kinds (embedder, vector backend, tool executor) through the
//! C ABI: `plugin_sdk_factory`'s manifest is read and checked before `init`, the config is checked
//! against the manifest's schema, and each operation may finish at once or hand back a task the
//! host polls (dropping the call releases — cancels — it).
use std::path::Path;
use std::sync::Arc;

use futures::future::Either;
use modelport_plugin::abi::{
    MP_OP_EMBED_TEXTS, MP_OP_EMBEDDER_DIMS, MP_OP_HEALTH_CHECK, MP_OP_INIT, MP_OP_MANIFEST,
    MP_OP_SHUTDOWN, MP_OP_TOOL_EXECUTE, MP_OP_TOOL_IS_ALLOWED, MP_OP_VECTOR_DELETE,
    MP_OP_VECTOR_INFO, MP_OP_VECTOR_QUERY, MP_OP_VECTOR_UPSERT, MP_OP_VECTOR_WIPE,
};
use modelport_plugin::sdk_plugin::wire::{
    DeleteInput, EmbedTextsInput, ExecuteInput, IsAllowedInput, QueryInput, RepoInput, UpsertInput,
};
use modelport_plugin::sdk_plugin::{
    HealthCheckResult, ToolPolicy, ToolRunRequest, ToolRunResult, VectorBackendInfo,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::library::NativeLibrary;
use super::object::PluginObject;
use crate::error::{ModelportError, Result};
use crate::manifest::{PluginManifest, PluginType};
use crate::provider::Health;
use crate::vectors::{Metadata, VectorBackend, VectorItem, VectorQueryResult};

/// A native SDK plugin's factory: loaded, its manifest checked.
pub struct NativeSdkFactory {
    manifest: PluginManifest,
    object: Arc<PluginObject>,
    _library: Arc<NativeLibrary>,
}

impl NativeSdkFactory {
    /// Loads `path` (registered as `name`) and reads its manifest. Blocking.
    pub fn open(name: &str, path: &Path) -> Result<Self> {
        let (library, object) = NativeLibrary::open_sdk(name, path)?;
        let written = object.call_sync("manifest", MP_OP_MANIFEST, &[], &[])?;
        let value: Value = object.read("manifest", &written.json)?;
        let manifest = PluginManifest::from_json(&value).map_err(|err| err.with_path(path))?;
        Ok(Self {
            manifest,
            object: Arc::new(object),
            _library: library,
        })
    }

    pub fn manifest(&self) -> &PluginManifest {
        &self.manifest
    }

    /// The plugin, configured. `config` has passed [`PluginManifest::check_config`] (the
    /// registry's one config check, the same for every runtime). Blocking.
    pub fn init(&self, config: &Value) -> Result<NativeSdkPlugin> {
        let text = serde_json::to_vec(config).expect("JSON values serialize");
        let object = self.object.call_make("init", MP_OP_INIT, &text)?;
        Ok(NativeSdkPlugin {
            kind: self.manifest.kind,
            object,
            _factory: self.object.clone(),
            _library: self._library.clone(),
        })
    }
}

/// A configured native SDK plugin. Field order: the plugin is released before its factory.
pub struct NativeSdkPlugin {
    kind: PluginType,
    object: PluginObject,
    _factory: Arc<PluginObject>,
    _library: Arc<NativeLibrary>,
}

fn json<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("host values serialize")
}

impl NativeSdkPlugin {
    /// Its manifest's type.
    pub fn kind(&self) -> PluginType {
        self.kind
    }

    /// Runs `op` to its JSON result (`null` when the plugin wrote none).
    async fn run<T: DeserializeOwned>(&self, operation: &str, op: u32, input: &[u8]) -> Result<T> {
        match self.object.call_async(operation, op, input, None).await? {
            Some(json) if json.is_empty() => self.object.read(operation, b"null"),
            Some(json) => self.object.read(operation, &json),
            None => Err(self.object.unsupported(operation)),
        }
    }

    fn run_sync<T: DeserializeOwned>(&self, operation: &str, op: u32, input: &[u8]) -> Result<T> {
        self.object.call_json(operation, op, input, &[])
    }

    pub async fn health_check(&self) -> Result<HealthCheckResult> {
        self.run("healthCheck", MP_OP_HEALTH_CHECK, &[]).await
    }

    pub async fn shutdown(&self) -> Result<()> {
        self.run::<Value>("shutdown", MP_OP_SHUTDOWN, &[])
            .await
            .map(drop)
    }

    pub fn dims(&self) -> Result<usize> {
        self.run_sync("dims", MP_OP_EMBEDDER_DIMS, &[])
    }

    pub async fn embed_texts(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>> {
        self.run(
            "embedTexts",
            MP_OP_EMBED_TEXTS,
            &json(&EmbedTextsInput { texts }),
        )
        .await
    }

    pub async fn execute(
        &self,
        request: ToolRunRequest,
        policy: ToolPolicy,
    ) -> Result<ToolRunResult> {
        self.run(
            "execute",
            MP_OP_TOOL_EXECUTE,
            &json(&ExecuteInput { request, policy }),
        )
        .await
    }

    pub fn is_allowed(&self, command: String, policy: ToolPolicy) -> Result<bool> {
        self.run_sync(
            "isAllowed",
            MP_OP_TOOL_IS_ALLOWED,
            &json(&IsAllowedInput { command, policy }),
        )
    }

    /// This plugin as a vector backend (the core's interface, as the shipped store has).
    pub fn into_vector_backend(self) -> Result<NativeVectorBackend> {
        let info: VectorBackendInfo = self.run_sync("info", MP_OP_VECTOR_INFO, &[])?;
        Ok(NativeVectorBackend {
            plugin: self,
            info,
            closed: std::sync::atomic::AtomicBool::new(false),
        })
    }
}

/// A native vector-backend plugin behind the core's [`VectorBackend`]: calls block (like the
/// shipped store's), and a cancelled token releases the plugin's task.
pub struct NativeVectorBackend {
    plugin: NativeSdkPlugin,
    info: VectorBackendInfo,
    closed: std::sync::atomic::AtomicBool,
}

impl NativeVectorBackend {
    fn block<T>(
        &self,
        what: &str,
        cancel: &CancellationToken,
        work: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        if self.closed.load(std::sync::atomic::Ordering::Acquire) {
            return Err(ModelportError::aborted("the vector backend is closed")
                .with_plugin(self.plugin.object.plugin()));
        }
        let cancelled = std::pin::pin!(cancel.cancelled());
        let work = std::pin::pin!(work);
        match futures::executor::block_on(futures::future::select(cancelled, work)) {
            // Dropping the call releases the plugin's task: the plugin stops.
            Either::Left(((), _)) => {
                Err(ModelportError::aborted(format!("the {what} was aborted"))
                    .with_plugin(self.plugin.object.plugin()))
            }
            Either::Right((done, _)) => done,
        }
    }
}

impl VectorBackend for NativeVectorBackend {
    fn upsert(&self, repo: &str, items: Vec<VectorItem>, cancel: &CancellationToken) -> Result<()> {
        let input = json(&UpsertInput {
            repo_id: repo.to_string(),
            items,
        });
        self.block(
            "upsert",
            cancel,
            self.plugin
                .run::<Value>("upsert", MP_OP_VECTOR_UPSERT, &input),
        )
        .map(drop)
    }

    fn query(
        &self,
        repo: &str,
        vector: &[f32],
        top_k: usize,
        filter: Option<&Metadata>,
        cancel: &CancellationToken,
    ) -> Result<Vec<VectorQueryResult>> {
        let input = json(&QueryInput {
            repo_id: repo.to_string(),
            vector: vector.to_vec(),
            top_k,
            filter: filter.cloned(),
        });
        self.block(
            "query",
            cancel,
            self.plugin.run("query", MP_OP_VECTOR_QUERY, &input),
        )
    }

    fn delete_by_ids(
        &self,
        repo: &str,
        ids: &[String],
        cancel: &CancellationToken,
    ) -> Result<usize> {
        let input = json(&DeleteInput {
            repo_id: repo.to_string(),
            ids: ids.to_vec(),
        });
        self.block(
            "delete",
            cancel,
            self.plugin
                .run::<Value>("deleteByIds", MP_OP_VECTOR_DELETE, &input),
        )?;
        // The seed's deleteByIds tells no count.
        Ok(0)
    }

    fn wipe_repo(&self, repo: &str) -> Result<usize> {
        let input = json(&RepoInput {
            repo_id: repo.to_string(),
        });
        let never = CancellationToken::new();
        self.block(
            "wipe",
            &never,
            self.plugin
                .run::<Value>("wipeRepo", MP_OP_VECTOR_WIPE, &input),
        )?;
        Ok(0)
    }

    fn info(&self) -> VectorBackendInfo {
        self.info.clone()
    }

    fn health(&self) -> Health {
        let never = CancellationToken::new();
        match self.block("health check", &never, self.plugin.health_check()) {
            Ok(result) => Health {
                healthy: result.healthy,
                message: result.message.unwrap_or_default(),
                code: None,
            },
            Err(err) => Health {
                healthy: false,
                message: err.message.clone(),
                code: Some(err.code),
            },
        }
    }

    fn close(&self) -> Result<()> {
        if self.closed.swap(true, std::sync::atomic::Ordering::AcqRel) {
            return Ok(());
        }
        futures::executor::block_on(self.plugin.shutdown())
    }
}
