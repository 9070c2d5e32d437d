//! # modelport-plugin
//!
//! The SDK for native modelport provider plugins. Implement [`HTTPLLMProviderFactory`] (the host
//! performs HTTP; you build requests and parse responses) or [`LLMProviderFactory`] (you do the
//! work yourself, asynchronously), then export it with one macro line:
//!
//! ```text
//! modelport_plugin::export_http_plugin!(MyFactory);
//! ```
//!
//! The macro also exports the ABI descriptor the host checks before calling your code, and wraps
//! every method so a panic in your plugin becomes an error in the host instead of an abort.

// `from_config(&self, …)` is the name QueryMT plugins use; keep it for familiarity.
#![allow(clippy::wrong_self_convention)]

pub mod abi;
pub mod audio;
pub mod call_params;
pub mod error;
pub mod export;
pub mod http_provider;
pub mod logging;
pub mod message;
pub mod panic_guard;
pub mod provider;
pub mod response;
pub mod sdk_plugin;
pub mod stream;
pub mod tool;
pub mod wire;

pub use async_trait::async_trait;
pub use audio::{SttRequest, SttResponse, TtsRequest, TtsResponse, VoiceConfig};
pub use call_params::{CallParams, ChatCall, ResponseFormat};
pub use error::{PluginError, PluginErrorDetails, PluginErrorKind, ProviderErrorKind};
pub use http_provider::{
    ChatStreamParser, HTTPLLMProvider, HTTPLLMProviderFactory, HttpRequest, HttpResponse,
};
pub use message::{ChatMessage, ChatRole, Content};
pub use provider::{LLMProvider, LLMProviderFactory};
pub use response::{ChatResponse, CompletionRequest, CompletionResponse, FinishReason, Usage};
pub use sdk_plugin::{
    Embedder, HealthCheckResult, PluginLifecycle, SdkPlugin, SdkPluginFactory, ToolExecutor,
    ToolPolicy, ToolRunRequest, ToolRunResult, VectorBackend, VectorBackendInfo, VectorItem,
    VectorQueryResult,
};
pub use stream::{StreamChunk, StreamSender};
pub use tool::{FunctionCall, FunctionTool, Tool, ToolCall};
pub use {http, serde_json};
