//! Providers whose code runs outside the core — a TypeScript plugin in the Node process — served
//! through the same `Provider` as native and Wasm ones: the core keeps the retries, timeouts,
//! abort and stream handling, the outside code answers one attempt at a time.
use async_trait::async_trait;
use modelport_plugin::{ChatCall, ChatResponse};

use crate::error::Result;
use crate::stream::ChunkSender;

/// A provider implemented outside the core. Dropping a returned future before it completes
/// cancels that attempt (the implementation tells its code to stop).
#[async_trait]
pub trait ExternalProvider: Send + Sync {
    /// One chat turn.
    async fn chat(&self, call: ChatCall<'_>) -> Result<ChatResponse>;
    /// Streams one chat turn into `sender`; `false` (having sent nothing) if it cannot stream.
    async fn chat_stream(&self, call: ChatCall<'_>, sender: &ChunkSender) -> Result<bool>;
}
