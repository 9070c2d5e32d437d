//! `BindingProvider`: a provider as JS sees it. Every call runs on the async runtime, off the JS thread.
use modelport_core::Provider;
use modelport_core::sdk::CompletionRequest;
use napi::bindgen_prelude::Float32Array;
use napi_derive::napi;
use serde_json::Value;

use crate::error::napi_result;
use crate::types::chat_response::BindingChatResponse;
use crate::types::message::{conversation, tools};

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

#[napi]
impl BindingProvider {
    /// The name of the plugin behind this provider.
    #[napi(getter)]
    pub fn plugin(&self) -> String {
        self.inner.plugin_name().to_string()
    }

    /// One chat turn; `messages` and `tools` use the facade's camelCase shapes.
    #[napi]
    pub async fn chat(
        &self,
        messages: Value,
        tool_list: Option<Value>,
    ) -> napi::Result<BindingChatResponse> {
        let (messages, system) = napi_result(conversation(messages))?;
        let tools = napi_result(tools(tool_list))?;
        let response = napi_result(self.inner.chat(&messages, &system, tools.as_deref()).await)?;
        Ok(BindingChatResponse::from(response))
    }

    /// One vector per input.
    #[napi]
    pub async fn embed(&self, inputs: Vec<String>) -> napi::Result<Vec<Float32Array>> {
        let vectors = napi_result(self.inner.embed(&inputs).await)?;
        Ok(vectors.into_iter().map(Float32Array::new).collect())
    }

    /// A text completion.
    #[napi]
    pub async fn complete(
        &self,
        request: BindingCompletionRequest,
    ) -> napi::Result<BindingCompletion> {
        let request = CompletionRequest {
            prompt: request.prompt,
            suffix: request.suffix,
            max_tokens: request.max_tokens,
            temperature: request.temperature.map(|t| t as f32),
        };
        let response = napi_result(self.inner.complete(&request).await)?;
        Ok(BindingCompletion {
            text: response.text,
        })
    }
}
