//! `NativeAsync`: a native non-HTTP plugin's provider (it does its own work, asynchronously),
//! called through the SDK's panic-guarded boundary.
use std::sync::Arc;

use modelport_plugin::boundary::{FactoryBoundary, ProviderBoundary};
use modelport_plugin::{
    ChatMessage, ChatResponse, CompletionRequest, CompletionResponse, SttRequest, SttResponse,
    Tool, TtsRequest, TtsResponse,
};

use super::unguard;
use crate::error::Result;

/// A configured native async provider, with its factory (for the model list). Field order
/// matters: the provider (plugin code) drops before the factory.
pub(crate) struct NativeAsync {
    name: String,
    provider: Box<dyn ProviderBoundary>,
    factory: Arc<dyn FactoryBoundary>,
    /// The config as JSON text, which the factory's `list_models` takes.
    config: String,
}

impl NativeAsync {
    /// The provider `factory` makes from `config` (JSON text).
    pub(crate) fn new(
        name: &str,
        factory: Arc<dyn FactoryBoundary>,
        config: String,
    ) -> Result<Self> {
        let provider = unguard(name, "from_config", factory.from_config(&config))?;
        Ok(Self {
            name: name.to_string(),
            provider,
            factory,
            config,
        })
    }

    pub(crate) async fn chat(
        &self,
        messages: &[ChatMessage],
        tools: Option<&[Tool]>,
    ) -> Result<ChatResponse> {
        unguard(
            &self.name,
            "chat",
            self.provider.chat(messages, tools).await,
        )
    }

    pub(crate) async fn embed(&self, inputs: &[String]) -> Result<Vec<Vec<f32>>> {
        unguard(&self.name, "embed", self.provider.embed(inputs).await)
    }

    pub(crate) async fn complete(&self, request: &CompletionRequest) -> Result<CompletionResponse> {
        unguard(
            &self.name,
            "complete",
            self.provider.complete(request).await,
        )
    }

    pub(crate) async fn transcribe(&self, request: &SttRequest) -> Result<SttResponse> {
        unguard(
            &self.name,
            "transcribe",
            self.provider.transcribe(request).await,
        )
    }

    pub(crate) async fn speech(&self, request: &TtsRequest) -> Result<TtsResponse> {
        unguard(&self.name, "speech", self.provider.speech(request).await)
    }

    pub(crate) async fn list_models(&self) -> Result<Vec<String>> {
        unguard(
            &self.name,
            "list_models",
            self.factory.list_models(&self.config).await,
        )
    }
}
