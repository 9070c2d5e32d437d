//! The traits of a non-HTTP provider plugin: the plugin does its own work asynchronously.
//!
//! The host polls the returned futures on its own executor. A plugin's statically linked tokio
//! cannot see the host's runtime, so such plugins must not rely on tokio's reactor or timers:
//! use runtime-free primitives (`futures-timer`, threads, channels).
use async_trait::async_trait;

use crate::audio::{SttRequest, SttResponse, TtsRequest, TtsResponse};
use crate::call_params::ChatCall;
use crate::error::PluginError;
use crate::message::ChatMessage;
use crate::response::{ChatResponse, CompletionRequest, CompletionResponse};
use crate::stream::StreamSender;
use crate::tool::Tool;

/// The entry point of a non-HTTP provider plugin (exported with `export_plugin!`).
#[async_trait]
pub trait LLMProviderFactory: Send + Sync {
    /// The provider's name.
    fn name(&self) -> String;
    /// The environment variable holding this provider's API key, if it uses one.
    fn api_key_name(&self) -> Option<String> {
        None
    }
    /// JSON Schema (as text) of the config `from_config` accepts.
    fn config_schema(&self) -> String;
    /// Builds a provider from its merged, validated config (JSON text).
    fn from_config(&self, config: &str) -> Result<Box<dyn LLMProvider>, PluginError>;
    /// The models this provider offers under `config`.
    async fn list_models(&self, config: &str) -> Result<Vec<String>, PluginError>;
}

/// A configured non-HTTP provider.
#[async_trait]
pub trait LLMProvider: Send + Sync {
    /// Answers a chat turn.
    async fn chat(
        &self,
        messages: &[ChatMessage],
        tools: Option<&[Tool]>,
    ) -> Result<ChatResponse, PluginError>;
    /// Answers a chat turn with the call's own settings (`call.params`). By default a call that
    /// sets any is `UNSUPPORTED` (naming it), and one that sets none goes to `chat`.
    async fn chat_call(&self, call: &ChatCall<'_>) -> Result<ChatResponse, PluginError> {
        call.params.refuse_all()?;
        self.chat(call.messages, call.tools).await
    }
    /// Whether `chat_stream` is implemented; otherwise the host tells `chat_call`'s whole answer
    /// as stream events.
    fn supports_streaming(&self) -> bool {
        false
    }
    /// Streams a chat turn: sends its events to `events` as they come, in order, ending with
    /// `Done`. Returns when the answer is complete (or when `events` reports the consumer gone).
    async fn chat_stream(
        &self,
        _call: &ChatCall<'_>,
        _events: &StreamSender,
    ) -> Result<(), PluginError> {
        Err(PluginError::unsupported("streaming"))
    }
    /// Embeds each input.
    async fn embed(&self, _inputs: &[String]) -> Result<Vec<Vec<f32>>, PluginError> {
        Err(PluginError::unsupported("embeddings"))
    }
    /// Completes a prompt.
    async fn complete(
        &self,
        _request: &CompletionRequest,
    ) -> Result<CompletionResponse, PluginError> {
        Err(PluginError::unsupported("completions"))
    }
    /// Transcribes audio (speech-to-text).
    async fn transcribe(&self, _request: &SttRequest) -> Result<SttResponse, PluginError> {
        Err(PluginError::unsupported("transcription"))
    }
    /// Speaks text (text-to-speech).
    async fn speech(&self, _request: &TtsRequest) -> Result<TtsResponse, PluginError> {
        Err(PluginError::unsupported("speech"))
    }
}
