//! What a runtime provides for SDK plugins: calls by operation, JSON in and out.
use async_trait::async_trait;
use modelport_plugin::abi::{
    MP_OP_EMBED_TEXTS, MP_OP_EMBEDDER_DIMS, MP_OP_HEALTH_CHECK, MP_OP_SHUTDOWN, MP_OP_TOOL_EXECUTE,
    MP_OP_TOOL_IS_ALLOWED, MP_OP_VECTOR_DELETE, MP_OP_VECTOR_INFO, MP_OP_VECTOR_QUERY,
    MP_OP_VECTOR_UPSERT, MP_OP_VECTOR_WIPE,
};
use serde_json::Value;

use crate::error::Result;

/// An operation of an SDK plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SdkOp {
    HealthCheck,
    Shutdown,
    EmbedderDims,
    EmbedTexts,
    VectorUpsert,
    VectorQuery,
    VectorDelete,
    VectorWipe,
    VectorInfo,
    ToolExecute,
    ToolIsAllowed,
}

impl SdkOp {
    /// Every operation.
    pub const ALL: [SdkOp; 11] = [
        SdkOp::HealthCheck,
        SdkOp::Shutdown,
        SdkOp::EmbedderDims,
        SdkOp::EmbedTexts,
        SdkOp::VectorUpsert,
        SdkOp::VectorQuery,
        SdkOp::VectorDelete,
        SdkOp::VectorWipe,
        SdkOp::VectorInfo,
        SdkOp::ToolExecute,
        SdkOp::ToolIsAllowed,
    ];

    /// The seed's method name (in errors).
    pub fn method(self) -> &'static str {
        match self {
            SdkOp::HealthCheck => "healthCheck",
            SdkOp::Shutdown => "shutdown",
            SdkOp::EmbedderDims => "dims",
            SdkOp::EmbedTexts => "embedTexts",
            SdkOp::VectorUpsert => "upsert",
            SdkOp::VectorQuery => "query",
            SdkOp::VectorDelete => "deleteByIds",
            SdkOp::VectorWipe => "wipeRepo",
            SdkOp::VectorInfo => "info",
            SdkOp::ToolExecute => "execute",
            SdkOp::ToolIsAllowed => "isAllowed",
        }
    }

    /// The C ABI's operation code.
    pub fn native(self) -> u32 {
        match self {
            SdkOp::HealthCheck => MP_OP_HEALTH_CHECK,
            SdkOp::Shutdown => MP_OP_SHUTDOWN,
            SdkOp::EmbedderDims => MP_OP_EMBEDDER_DIMS,
            SdkOp::EmbedTexts => MP_OP_EMBED_TEXTS,
            SdkOp::VectorUpsert => MP_OP_VECTOR_UPSERT,
            SdkOp::VectorQuery => MP_OP_VECTOR_QUERY,
            SdkOp::VectorDelete => MP_OP_VECTOR_DELETE,
            SdkOp::VectorWipe => MP_OP_VECTOR_WIPE,
            SdkOp::VectorInfo => MP_OP_VECTOR_INFO,
            SdkOp::ToolExecute => MP_OP_TOOL_EXECUTE,
            SdkOp::ToolIsAllowed => MP_OP_TOOL_IS_ALLOWED,
        }
    }

    /// The Extism export.
    pub fn export(self) -> &'static str {
        match self {
            SdkOp::HealthCheck => "health_check",
            SdkOp::Shutdown => "shutdown",
            SdkOp::EmbedderDims => "embedder_dims",
            SdkOp::EmbedTexts => "embed_texts",
            SdkOp::VectorUpsert => "vector_upsert",
            SdkOp::VectorQuery => "vector_query",
            SdkOp::VectorDelete => "vector_delete",
            SdkOp::VectorWipe => "vector_wipe",
            SdkOp::VectorInfo => "vector_info",
            SdkOp::ToolExecute => "tool_execute",
            SdkOp::ToolIsAllowed => "tool_is_allowed",
        }
    }
}

/// A configured plugin's calls. `None`: the plugin has no such operation.
#[async_trait]
pub trait SdkTransport: Send + Sync {
    /// The name it is registered under (in errors).
    fn plugin(&self) -> &str;
    /// Runs `op`; dropping the future stops it (the plugin's task released, the Wasm call
    /// interrupted).
    async fn call(&self, op: SdkOp, input: Vec<u8>) -> Result<Option<Vec<u8>>>;
    /// Runs a quick `op` on this thread (`dims`, `info`, `isAllowed`).
    fn call_sync(&self, op: SdkOp, input: &[u8]) -> Result<Option<Vec<u8>>>;
}

/// A loaded plugin's factory: `init` makes the configured plugin.
pub trait SdkFactoryTransport: Send + Sync {
    /// The manifest JSON, as the plugin declares it (checked by [`super::SdkFactory`]).
    fn manifest(&self) -> Result<Value>;
    /// The plugin, configured with `config` (already checked against the manifest's schema).
    /// Blocking.
    fn init(&self, config: &Value) -> Result<Box<dyn SdkTransport>>;
}
