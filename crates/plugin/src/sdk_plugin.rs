//! Plugins of seed 004's other kinds — embedders, vector memory backends, tool executors — as
//! native plugins: a factory with a manifest (the seed's `PluginManifest`, JSON) that `init`s a
//! plugin from its config, and the kind's trait. Exported with `export_sdk_plugin!`.
//!
//! The types are the seed's TypeScript types in camelCase JSON: what crosses the ABI is what a
//! TypeScript plugin of the same kind takes and answers.
use std::collections::HashMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::PluginError;

/// What `healthCheck` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthCheckResult {
    pub healthy: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

impl HealthCheckResult {
    /// Healthy, saying `message`.
    pub fn healthy(message: impl Into<String>) -> Self {
        Self {
            healthy: true,
            message: Some(message.into()),
            details: None,
        }
    }
}

/// The lifecycle every kind shares (seed 004's `BasePlugin`, after `init`).
#[async_trait]
pub trait PluginLifecycle: Send + Sync {
    async fn health_check(&self) -> HealthCheckResult {
        HealthCheckResult {
            healthy: true,
            message: None,
            details: None,
        }
    }
    /// Releases what the plugin holds; called once, before the plugin is dropped.
    async fn shutdown(&self) {}
}

/// Text embeddings (`EmbedderPlugin`).
#[async_trait]
pub trait Embedder: PluginLifecycle {
    fn dims(&self) -> usize;
    /// One vector of `dims()` numbers per text.
    async fn embed_texts(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, PluginError>;
}

/// One vector to store (`VectorItem`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VectorItem {
    pub id: String,
    pub vector: Vec<f32>,
    #[serde(default)]
    pub metadata: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

/// One query answer (`VectorQueryResult`); higher `score` is closer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VectorQueryResult {
    pub id: String,
    pub score: f32,
    #[serde(default)]
    pub metadata: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

/// What a backend is (`VectorBackendInfo`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VectorBackendInfo {
    pub backend: String,
    pub dims: usize,
    pub embedder_id: String,
    /// `local` or `remote`.
    pub location: String,
    pub supports_filters: bool,
}

/// Vector memory (`VectorMemoryBackendPlugin`).
#[async_trait]
pub trait VectorBackend: PluginLifecycle {
    async fn upsert(&self, repo_id: &str, items: Vec<VectorItem>) -> Result<(), PluginError>;
    /// The `top_k` closest items, best first; with a filter, only items whose metadata equals
    /// each of its values.
    async fn query(
        &self,
        repo_id: &str,
        vector: &[f32],
        top_k: usize,
        filter: Option<&Map<String, Value>>,
    ) -> Result<Vec<VectorQueryResult>, PluginError>;
    async fn delete_by_ids(&self, repo_id: &str, ids: &[String]) -> Result<(), PluginError>;
    async fn wipe_repo(&self, repo_id: &str) -> Result<(), PluginError>;
    fn info(&self) -> VectorBackendInfo;
}

/// A command to run (`ToolRunRequest`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolRunRequest {
    pub command: String,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<HashMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdin: Option<String>,
}

/// What a tool executor may do (`ToolPolicy`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolPolicy {
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_commands: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_directory: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_env: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_bytes: Option<u64>,
}

/// How a command ended (`ToolRunResult`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolRunResult {
    pub exit_code: i32,
    pub duration_ms: f64,
    pub stdout_path: String,
    pub stderr_path: String,
    pub truncated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
}

/// Runs commands under a policy (`ToolExecutorPlugin`).
#[async_trait]
pub trait ToolExecutor: PluginLifecycle {
    async fn execute(
        &self,
        request: ToolRunRequest,
        policy: ToolPolicy,
    ) -> Result<ToolRunResult, PluginError>;
    fn is_allowed(&self, command: &str, policy: &ToolPolicy) -> bool;
}

/// A plugin `init` made, of its manifest's kind.
pub enum SdkPlugin {
    Embedder(Box<dyn Embedder>),
    VectorBackend(Box<dyn VectorBackend>),
    ToolExecutor(Box<dyn ToolExecutor>),
}

/// The entry point of a native SDK plugin (exported with `export_sdk_plugin!`).
pub trait SdkPluginFactory: Send + Sync {
    /// The manifest (seed 004's `PluginManifest` as JSON: `name`, `type`, `sdkVersion`,
    /// `version`, `description`, `configSchema`). The host checks it, and the config against its
    /// `configSchema`, before `init`.
    fn manifest(&self) -> String;
    /// The plugin, configured (`config`: JSON text). Its kind must be the manifest's `type`.
    fn init(&self, config: &str) -> Result<SdkPlugin, PluginError>;
}

/// The JSON inputs of the SDK operations (see `abi`'s `MP_OP_*` docs).
pub mod wire {
    use super::*;

    #[derive(Serialize, Deserialize)]
    pub struct EmbedTextsInput {
        pub texts: Vec<String>,
    }

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct UpsertInput {
        pub repo_id: String,
        pub items: Vec<VectorItem>,
    }

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct QueryInput {
        pub repo_id: String,
        pub vector: Vec<f32>,
        pub top_k: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub filter: Option<Map<String, Value>>,
    }

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct DeleteInput {
        pub repo_id: String,
        pub ids: Vec<String>,
    }

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct RepoInput {
        pub repo_id: String,
    }

    #[derive(Serialize, Deserialize)]
    pub struct ExecuteInput {
        pub request: ToolRunRequest,
        pub policy: ToolPolicy,
    }

    #[derive(Serialize, Deserialize)]
    pub struct IsAllowedInput {
        pub command: String,
        pub policy: ToolPolicy,
    }
}
