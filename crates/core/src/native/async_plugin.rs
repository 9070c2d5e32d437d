//! `NativeAsync`: a native non-HTTP plugin's provider (it does its own work, asynchronously),
//! through the C ABI: each operation finishes at once or hands back a task the host polls when
//! the plugin wakes it; dropping the call releases (cancels) the task.
use std::borrow::Cow;
use std::sync::Arc;

use modelport_plugin::abi::{
    MP_OP_CHAT, MP_OP_CHAT_STREAM, MP_OP_COMPLETE, MP_OP_EMBED, MP_OP_FROM_CONFIG,
    MP_OP_LIST_MODELS, MP_OP_SPEECH, MP_OP_SUPPORTS_STREAMING, MP_OP_TRANSCRIBE,
};
use modelport_plugin::wire::{ChatInput, EmbedInput};
use modelport_plugin::{
    ChatCall, ChatResponse, CompletionRequest, CompletionResponse, SttRequest, SttResponse,
    TtsRequest, TtsResponse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::object::PluginObject;
use crate::error::Result;
use crate::stream::ChunkSender;

/// A configured native async provider, with its factory (for the model list). Field order: the
/// provider is released before the factory.
pub(crate) struct NativeAsync {
    provider: PluginObject,
    factory: Arc<PluginObject>,
    /// The config as JSON text, which the factory's `list_models` takes.
    config: String,
}

fn chat_input(call: ChatCall<'_>) -> Vec<u8> {
    let input = ChatInput {
        messages: Cow::Borrowed(call.messages),
        tools: call.tools.map(Cow::Borrowed),
        params: Cow::Borrowed(call.params),
        stream: false,
    };
    serde_json::to_vec(&input).expect("host values serialize")
}

impl NativeAsync {
    /// The provider `factory` makes from `config` (JSON text).
    pub(crate) fn new(factory: Arc<PluginObject>, config: String) -> Result<Self> {
        let provider = factory.call_make("from_config", MP_OP_FROM_CONFIG, config.as_bytes())?;
        Ok(Self {
            provider,
            factory,
            config,
        })
    }

    /// Runs an operation with no events to its result.
    async fn run<T: DeserializeOwned>(
        object: &PluginObject,
        operation: &str,
        op: u32,
        input: &[u8],
    ) -> Result<T> {
        match object.call_async(operation, op, input, None).await? {
            Some(json) => object.read(operation, &json),
            None => Err(object.unsupported(operation)),
        }
    }

    fn json<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
        serde_json::to_vec(value).expect("host values serialize")
    }

    pub(crate) async fn chat(&self, call: ChatCall<'_>) -> Result<ChatResponse> {
        let input = chat_input(call);
        Self::run(&self.provider, "chat", MP_OP_CHAT, &input).await
    }

    /// Streams a chat turn to `sender`; `false` if the plugin does not stream (nothing sent).
    pub(crate) async fn chat_stream(
        &self,
        call: ChatCall<'_>,
        sender: &ChunkSender,
    ) -> Result<bool> {
        let input = chat_input(call);
        let outcome = self
            .provider
            .call_async("chat_stream", MP_OP_CHAT_STREAM, &input, Some(sender))
            .await?;
        Ok(outcome.is_some())
    }

    pub(crate) async fn embed(&self, inputs: &[String]) -> Result<Vec<Vec<f32>>> {
        let input = Self::json(&EmbedInput {
            inputs: Cow::Borrowed(inputs),
        });
        Self::run(&self.provider, "embed", MP_OP_EMBED, &input).await
    }

    pub(crate) async fn complete(&self, request: &CompletionRequest) -> Result<CompletionResponse> {
        Self::run(
            &self.provider,
            "complete",
            MP_OP_COMPLETE,
            &Self::json(request),
        )
        .await
    }

    pub(crate) async fn transcribe(&self, request: &SttRequest) -> Result<SttResponse> {
        Self::run(
            &self.provider,
            "transcribe",
            MP_OP_TRANSCRIBE,
            &Self::json(request),
        )
        .await
    }

    pub(crate) async fn speech(&self, request: &TtsRequest) -> Result<TtsResponse> {
        Self::run(&self.provider, "speech", MP_OP_SPEECH, &Self::json(request)).await
    }

    /// Whether it streams (`MP_OP_SUPPORTS_STREAMING`; a plugin without that operation does not say,
    /// and is taken as not streaming).
    pub(crate) fn supports_streaming(&self) -> Result<bool> {
        match self.provider.call_json::<bool>(
            "supports_streaming",
            MP_OP_SUPPORTS_STREAMING,
            &[],
            &[],
        ) {
            Err(err) if err.code == crate::error::ErrorCode::Unsupported => Ok(false),
            other => other,
        }
    }

    pub(crate) async fn list_models(&self) -> Result<Vec<String>> {
        Self::run(
            &self.factory,
            "list_models",
            MP_OP_LIST_MODELS,
            self.config.as_bytes(),
        )
        .await
    }
}
