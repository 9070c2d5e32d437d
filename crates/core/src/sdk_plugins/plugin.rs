//! The typed layer over a runtime's transport: the seed's methods, the SDK's wire JSON.
use std::path::Path;

use modelport_plugin::sdk_plugin::wire::{
    DeleteInput, EmbedTextsInput, ExecuteInput, IsAllowedInput, QueryInput, RepoInput, UpsertInput,
};
use modelport_plugin::sdk_plugin::{
    HealthCheckResult, ToolPolicy, ToolRunRequest, ToolRunResult, VectorBackendInfo, VectorItem,
    VectorQueryResult,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::transport::{SdkFactoryTransport, SdkOp, SdkTransport};
use crate::error::{ErrorCode, ModelportError, Result};
use crate::manifest::{PluginManifest, PluginType};

/// A loaded SDK plugin, its manifest checked (before any `init`).
pub struct SdkFactory {
    manifest: PluginManifest,
    transport: Box<dyn SdkFactoryTransport>,
}

impl SdkFactory {
    /// Reads and checks the manifest `transport`'s plugin declares (`path` names it in errors).
    pub fn new(transport: Box<dyn SdkFactoryTransport>, path: &Path) -> Result<Self> {
        let manifest =
            PluginManifest::from_json(&transport.manifest()?).map_err(|err| err.with_path(path))?;
        Ok(Self {
            manifest,
            transport,
        })
    }

    pub fn manifest(&self) -> &PluginManifest {
        &self.manifest
    }

    /// The plugin, configured. `config` has passed [`PluginManifest::check_config`] (the
    /// registry's one config check, the same for every runtime). Blocking.
    pub fn init(&self, config: &Value) -> Result<SdkPlugin> {
        Ok(SdkPlugin {
            kind: self.manifest.kind,
            transport: self.transport.init(config)?,
        })
    }
}

/// A configured SDK plugin of any runtime.
pub struct SdkPlugin {
    kind: PluginType,
    transport: Box<dyn SdkTransport>,
}

fn json<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("host values serialize")
}

impl SdkPlugin {
    /// Its manifest's type.
    pub fn kind(&self) -> PluginType {
        self.kind
    }

    /// The name it is registered under.
    pub fn plugin(&self) -> &str {
        self.transport.plugin()
    }

    fn read<T: DeserializeOwned>(&self, op: SdkOp, answer: Option<Vec<u8>>) -> Result<T> {
        let Some(bytes) = answer else {
            return Err(ModelportError::new(
                ErrorCode::Unsupported,
                format!("this plugin has no {}", op.method()),
            )
            .with_plugin(self.plugin()));
        };
        let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
        serde_json::from_slice(bytes).map_err(|err| {
            ModelportError::new(
                ErrorCode::PluginInvalid,
                format!("{}() answered the wrong shape: {err}", op.method()),
            )
            .with_plugin(self.plugin())
            .with_json_path(format!("{}()", op.method()))
        })
    }

    async fn run<T: DeserializeOwned>(&self, op: SdkOp, input: Vec<u8>) -> Result<T> {
        let answer = self.transport.call(op, input).await?;
        self.read(op, answer)
    }

    fn run_sync<T: DeserializeOwned>(&self, op: SdkOp, input: &[u8]) -> Result<T> {
        let answer = self.transport.call_sync(op, input)?;
        self.read(op, answer)
    }

    /// Healthy when the plugin has no health check of its own.
    pub async fn health_check(&self) -> Result<HealthCheckResult> {
        match self.transport.call(SdkOp::HealthCheck, Vec::new()).await? {
            None => Ok(HealthCheckResult {
                healthy: true,
                message: None,
                details: None,
            }),
            answer => self.read(SdkOp::HealthCheck, answer),
        }
    }

    pub async fn shutdown(&self) -> Result<()> {
        self.transport
            .call(SdkOp::Shutdown, Vec::new())
            .await
            .map(drop)
    }

    pub fn dims(&self) -> Result<usize> {
        self.run_sync(SdkOp::EmbedderDims, &[])
    }

    pub async fn embed_texts(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>> {
        self.run(SdkOp::EmbedTexts, json(&EmbedTextsInput { texts }))
            .await
    }

    pub async fn upsert(&self, repo: &str, items: Vec<VectorItem>) -> Result<()> {
        let input = json(&UpsertInput {
            repo_id: repo.to_string(),
            items,
        });
        self.run::<Value>(SdkOp::VectorUpsert, input)
            .await
            .map(drop)
    }

    pub async fn query(
        &self,
        repo: &str,
        vector: &[f32],
        top_k: usize,
        filter: Option<&Map<String, Value>>,
    ) -> Result<Vec<VectorQueryResult>> {
        let input = json(&QueryInput {
            repo_id: repo.to_string(),
            vector: vector.to_vec(),
            top_k,
            filter: filter.cloned(),
        });
        self.run(SdkOp::VectorQuery, input).await
    }

    pub async fn delete_by_ids(&self, repo: &str, ids: &[String]) -> Result<()> {
        let input = json(&DeleteInput {
            repo_id: repo.to_string(),
            ids: ids.to_vec(),
        });
        self.run::<Value>(SdkOp::VectorDelete, input)
            .await
            .map(drop)
    }

    pub async fn wipe_repo(&self, repo: &str) -> Result<()> {
        self.run::<Value>(
            SdkOp::VectorWipe,
            json(&RepoInput {
                repo_id: repo.to_string(),
            }),
        )
        .await
        .map(drop)
    }

    pub fn vector_info(&self) -> Result<VectorBackendInfo> {
        self.run_sync(SdkOp::VectorInfo, &[])
    }

    pub async fn execute(
        &self,
        request: ToolRunRequest,
        policy: ToolPolicy,
    ) -> Result<ToolRunResult> {
        self.run(SdkOp::ToolExecute, json(&ExecuteInput { request, policy }))
            .await
    }

    pub fn is_allowed(&self, command: String, policy: ToolPolicy) -> Result<bool> {
        self.run_sync(
            SdkOp::ToolIsAllowed,
            &json(&IsAllowedInput { command, policy }),
        )
    }
}
