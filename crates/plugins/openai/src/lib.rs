//! The `openai` provider plugin: OpenAI's HTTP API, and any endpoint compatible with it through
//! `base_url` (chat, streaming, embeddings, completions, models, transcription and speech). It
//! builds requests and parses responses; modelport's host performs the HTTP.
mod audio;
mod config;
mod failure;
mod request;
mod response;
mod stream;

use modelport_plugin::{
    ChatCall, ChatMessage, ChatResponse, ChatStreamParser, CompletionRequest, CompletionResponse,
    HTTPLLMProvider, HTTPLLMProviderFactory, HttpRequest, HttpResponse, PluginError, SttRequest,
    SttResponse, Tool, TtsRequest, TtsResponse, export_http_plugin,
};

pub use config::OpenAIConfig;

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The plugin's factory.
#[derive(Default)]
pub struct OpenAIFactory;

impl HTTPLLMProviderFactory for OpenAIFactory {
    fn name(&self) -> String {
        "openai".into()
    }

    fn api_key_name(&self) -> Option<String> {
        Some("OPENAI_API_KEY".into())
    }

    fn config_schema(&self) -> String {
        config::schema().to_string()
    }

    fn from_config(&self, config: &str) -> Result<Box<dyn HTTPLLMProvider>, PluginError> {
        Ok(Box::new(OpenAI {
            config: OpenAIConfig::parse(config)?,
            raw_config: serde_json::from_str(config)?,
        }))
    }

    fn list_models_request(&self, config: &str) -> Result<HttpRequest, PluginError> {
        request::list_models(&OpenAIConfig::parse(config)?)
    }

    fn parse_list_models(&self, response: HttpResponse) -> Result<Vec<String>, PluginError> {
        response::models(&response)
    }
}

/// A configured OpenAI-compatible provider.
pub struct OpenAI {
    config: OpenAIConfig,
    /// The config as given, for laying a call's own settings over it.
    raw_config: serde_json::Map<String, serde_json::Value>,
}

impl HTTPLLMProvider for OpenAI {
    /// A call's own settings go where the config's would (`temperature`, `max_tokens`, `stop`,
    /// `system`, `tool_choice`, `response_format`, `extra_headers`, …); `top_k` has no place in
    /// OpenAI's API and is `UNSUPPORTED`.
    fn chat_call_request(
        &self,
        call: &ChatCall<'_>,
        stream: bool,
    ) -> Result<HttpRequest, PluginError> {
        let merged;
        let config = if call.params.is_empty() {
            &self.config
        } else {
            let schema = config::schema();
            let accepts = |key: &str| schema["properties"].get(key).is_some();
            let overlaid = call.params.overlay(self.raw_config.clone(), accepts)?;
            merged = serde_json::from_value(serde_json::Value::Object(overlaid))
                .map_err(|err| PluginError::invalid_request(format!("bad call settings: {err}")))?;
            &merged
        };
        if stream {
            request::chat_stream(config, call.messages, call.tools)
        } else {
            request::chat(config, call.messages, call.tools)
        }
    }

    fn chat_request(
        &self,
        messages: &[ChatMessage],
        tools: Option<&[Tool]>,
    ) -> Result<HttpRequest, PluginError> {
        request::chat(&self.config, messages, tools)
    }

    fn parse_chat(&self, response: HttpResponse) -> Result<ChatResponse, PluginError> {
        response::chat(&response)
    }

    fn supports_streaming(&self) -> bool {
        true
    }

    fn chat_stream_request(
        &self,
        messages: &[ChatMessage],
        tools: Option<&[Tool]>,
    ) -> Result<HttpRequest, PluginError> {
        request::chat_stream(&self.config, messages, tools)
    }

    fn chat_stream_parser(&self) -> Result<Box<dyn ChatStreamParser>, PluginError> {
        Ok(Box::new(stream::OpenAIStreamParser::default()))
    }

    fn classify_error(&self, response: &HttpResponse) -> Option<PluginError> {
        Some(response::error(response))
    }

    fn embed_request(&self, inputs: &[String]) -> Result<HttpRequest, PluginError> {
        request::embed(&self.config, inputs)
    }

    fn parse_embed(&self, response: HttpResponse) -> Result<Vec<Vec<f32>>, PluginError> {
        response::embeddings(&response)
    }

    fn complete_request(&self, completion: &CompletionRequest) -> Result<HttpRequest, PluginError> {
        request::complete(&self.config, completion)
    }

    fn parse_complete(&self, response: HttpResponse) -> Result<CompletionResponse, PluginError> {
        response::completion(&response)
    }

    fn stt_request(&self, request: &SttRequest) -> Result<HttpRequest, PluginError> {
        audio::transcription(&self.config, request)
    }

    fn parse_stt(&self, response: HttpResponse) -> Result<SttResponse, PluginError> {
        audio::transcript(&response)
    }

    fn tts_request(&self, request: &TtsRequest) -> Result<HttpRequest, PluginError> {
        audio::speech(&self.config, request)
    }

    fn parse_tts(&self, response: HttpResponse) -> Result<TtsResponse, PluginError> {
        audio::spoken(response)
    }
}

export_http_plugin!(OpenAIFactory);
