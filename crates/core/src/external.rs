//! Providers whose code runs outside the core — a TypeScript plugin in the Node process — served
//! through the same `Provider` as native and Wasm ones: the core keeps the retries, timeouts,
//! abort and stream handling, the outside code answers one attempt at a time.
use async_trait::async_trait;
use modelport_plugin::{CallParams, ChatMessage, ChatResponse, Tool};

use crate::error::Result;
use crate::stream::ChunkSender;

/// One chat attempt, as an outside provider receives it.
#[derive(Debug, Clone, Copy)]
pub struct ExternalChat<'a> {
    pub messages: &'a [ChatMessage],
    pub tools: Option<&'a [Tool]>,
    pub params: &'a CallParams,
}

/// A provider implemented outside the core. Dropping a returned future before it completes
/// cancels that attempt (the implementation tells its code to stop).
#[async_trait]
pub trait ExternalProvider: Send + Sync {
    /// One chat turn.
    async fn chat(&self, call: ExternalChat<'_>) -> Result<ChatResponse>;
    /// Streams one chat turn into `sender`; `false` (having sent nothing) if it cannot stream.
    async fn chat_stream(&self, call: ExternalChat<'_>, sender: &ChunkSender) -> Result<bool>;
}
