//! `BindingProvider`: a provider as JS sees it. A call that must wait (HTTP, Wasm, timers)
//! returns a promise: it runs on the async runtime, off the JS thread, or, when its waits end on
//! threads of their own (TypeScript and Wasm plugins), is polled on the JS thread
//! (`js_thread`); one that completes at once returns its value (see `inline_poll`).
use modelport_core::Provider;
use modelport_core::sdk::{CompletionRequest, SttRequest, TtsRequest, VoiceConfig};
use napi::Env;
use napi::bindgen_prelude::{Float32Array, Uint8Array};
use napi_derive::napi;

use crate::chat_stream::BindingChatStream;
use crate::error::napi_result;
use crate::inline_poll::{Answer, answer};
use crate::js_thread::answer_here;
use crate::types::call_options::BindingCallOptions;
use crate::types::chat_response::BindingChatResponse;
use crate::types::message::{BindingMessage, BindingTool, conversation, tools};

#[napi]
pub struct BindingProvider {
    inner: Provider,
}

impl BindingProvider {
    pub fn new(inner: Provider) -> Self {
        Self { inner }
    }
}

#[napi(object)]
pub struct BindingCompletionRequest {
    pub prompt: String,
    pub suffix: Option<String>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f64>,
}

#[napi(object)]
pub struct BindingCompletion {
    pub text: String,
}

/// What `transcribe` is told about the audio besides its bytes.
#[napi(object)]
pub struct BindingTranscribeRequest {
    pub mime_type: Option<String>,
    pub filename: Option<String>,
    pub language: Option<String>,
    pub prompt: Option<String>,
    pub model: Option<String>,
}

#[napi(object)]
pub struct BindingTranscript {
    pub text: String,
}

/// How `speech` speaks.
#[napi(object)]
pub struct BindingSpeechRequest {
    pub voice: Option<String>,
    pub format: Option<String>,
    pub speed: Option<f64>,
    pub language: Option<String>,
    pub model: Option<String>,
}

#[napi(object)]
pub struct BindingSpeech {
    pub audio: Uint8Array,
    pub mime_type: Option<String>,
}

#[napi]
impl BindingProvider {
    /// The name of the plugin behind this provider.
    #[napi(getter)]
    pub fn plugin(&self) -> String {
        self.inner.plugin_name().to_string()
    }

    /// One chat turn; `messages` and `tools` use the facade's camelCase shapes.
    #[napi]
    pub fn chat<'env>(
        &self,
        env: &'env Env,
        messages: Vec<BindingMessage>,
        tool_list: Option<Vec<BindingTool>>,
        options: Option<BindingCallOptions>,
    ) -> napi::Result<Answer<'env, BindingChatResponse>> {
        let (messages, system) = napi_result(conversation(messages))?;
        let tools = napi_result(tools(tool_list))?;
        let options = napi_result(options.unwrap_or_default().into_core(system))?;
        let provider = self.inner.clone();
        let on_caller = provider.polls_on_caller();
        let work = async move {
            let response = provider.chat(&messages, tools.as_deref(), &options).await;
            Ok(BindingChatResponse::from(napi_result(response)?))
        };
        if on_caller {
            answer_here(env, work)
        } else {
            answer(env, work)
        }
    }

    /// A streamed chat turn: resolves once the stream is started; errors come from `next()`.
    #[napi]
    pub async fn chat_stream(
        &self,
        messages: Vec<BindingMessage>,
        tool_list: Option<Vec<BindingTool>>,
        options: Option<BindingCallOptions>,
    ) -> napi::Result<BindingChatStream> {
        let (messages, system) = napi_result(conversation(messages))?;
        let tools = napi_result(tools(tool_list))?;
        let options = napi_result(options.unwrap_or_default().into_core(system))?;
        let stream = napi_result(self.inner.chat_stream(messages, tools, &options).await)?;
        Ok(BindingChatStream::new(stream))
    }

    /// One vector per input.
    #[napi]
    pub fn embed<'env>(
        &self,
        env: &'env Env,
        inputs: Vec<String>,
        options: Option<BindingCallOptions>,
    ) -> napi::Result<Answer<'env, Vec<Float32Array>>> {
        let options = napi_result(options.unwrap_or_default().into_core(Vec::new()))?;
        let provider = self.inner.clone();
        answer(env, async move {
            let vectors = napi_result(provider.embed(&inputs, &options).await)?;
            Ok(vectors.into_iter().map(Float32Array::new).collect())
        })
    }

    /// A text completion.
    #[napi]
    pub fn complete<'env>(
        &self,
        env: &'env Env,
        request: BindingCompletionRequest,
        options: Option<BindingCallOptions>,
    ) -> napi::Result<Answer<'env, BindingCompletion>> {
        let options = napi_result(options.unwrap_or_default().into_core(Vec::new()))?;
        let request = CompletionRequest {
            prompt: request.prompt,
            suffix: request.suffix,
            max_tokens: request.max_tokens,
            temperature: request.temperature.map(|t| t as f32),
        };
        let provider = self.inner.clone();
        answer(env, async move {
            let response = napi_result(provider.complete(&request, &options).await)?;
            Ok(BindingCompletion {
                text: response.text,
            })
        })
    }

    /// Transcribes audio (speech-to-text).
    #[napi]
    pub fn transcribe<'env>(
        &self,
        env: &'env Env,
        audio: Uint8Array,
        request: BindingTranscribeRequest,
        options: Option<BindingCallOptions>,
    ) -> napi::Result<Answer<'env, BindingTranscript>> {
        let options = napi_result(options.unwrap_or_default().into_core(Vec::new()))?;
        let request = SttRequest {
            audio: audio.to_vec(),
            filename: request.filename,
            mime_type: request.mime_type,
            model: request.model,
            language: request.language,
            prompt: request.prompt,
        };
        let provider = self.inner.clone();
        answer(env, async move {
            let response = napi_result(provider.transcribe(&request, &options).await)?;
            Ok(BindingTranscript {
                text: response.text,
            })
        })
    }

    /// Speaks text (text-to-speech).
    #[napi]
    pub fn speech<'env>(
        &self,
        env: &'env Env,
        text: String,
        request: BindingSpeechRequest,
        options: Option<BindingCallOptions>,
    ) -> napi::Result<Answer<'env, BindingSpeech>> {
        let options = napi_result(options.unwrap_or_default().into_core(Vec::new()))?;
        let request = TtsRequest {
            text,
            model: request.model,
            voice_config: request.voice.map(|name| VoiceConfig::Preset { name }),
            format: request.format,
            speed: request.speed.map(|s| s as f32),
            language: request.language,
        };
        let provider = self.inner.clone();
        answer(env, async move {
            let response = napi_result(provider.speech(&request, &options).await)?;
            Ok(BindingSpeech {
                audio: Uint8Array::new(response.audio),
                mime_type: response.mime_type,
            })
        })
    }

    /// The models available under this provider's config.
    #[napi]
    pub fn list_models<'env>(
        &self,
        env: &'env Env,
        options: Option<BindingCallOptions>,
    ) -> napi::Result<Answer<'env, Vec<String>>> {
        let options = napi_result(options.unwrap_or_default().into_core(Vec::new()))?;
        let provider = self.inner.clone();
        answer(env, async move {
            napi_result(provider.list_models(&options).await)
        })
    }

    /// What it can do, derived from its protocol.
    #[napi]
    pub async fn capabilities(&self) -> napi::Result<BindingCapabilities> {
        let capabilities = napi_result(self.inner.capabilities().await)?;
        Ok(BindingCapabilities {
            supports_streaming: capabilities.supports_streaming,
            supports_tool_calling: capabilities.supports_tool_calling,
            supports_json_mode: capabilities.supports_json_mode,
        })
    }

    /// A health check derived from the protocol (the model list, within `options`).
    #[napi]
    pub fn health_check<'env>(
        &self,
        env: &'env Env,
        options: Option<BindingCallOptions>,
    ) -> napi::Result<Answer<'env, BindingHealth>> {
        let options = napi_result(options.unwrap_or_default().into_core(Vec::new()))?;
        let provider = self.inner.clone();
        answer(env, async move {
            let health = provider.health_check(&options).await;
            Ok(BindingHealth {
                healthy: health.healthy,
                message: health.message,
                code: health.code.map(|code| code.as_str()),
            })
        })
    }
}

/// What a provider can do (the derived part of seed 004's `ProviderCapabilities`).
#[napi(object, object_from_js = false)]
pub struct BindingCapabilities {
    pub supports_streaming: bool,
    pub supports_tool_calling: bool,
    pub supports_json_mode: bool,
}

/// A provider's health.
#[napi(object, object_from_js = false)]
pub struct BindingHealth {
    pub healthy: bool,
    pub message: String,
    /// The failure's code, when unhealthy.
    pub code: Option<String>,
}
