//! The traits of an HTTP provider plugin: the plugin builds requests and parses responses, the
//! host performs every HTTP exchange (pooling, timeouts, limits, cancellation).
use crate::audio::{SttRequest, SttResponse, TtsRequest, TtsResponse};
use crate::call_params::ChatCall;
use crate::error::PluginError;
use crate::message::ChatMessage;
use crate::response::{ChatResponse, CompletionRequest, CompletionResponse};
use crate::stream::StreamChunk;
use crate::tool::Tool;

/// An HTTP request built by a plugin, executed by the host.
pub type HttpRequest = http::Request<Vec<u8>>;
/// An HTTP response read by the host, handed to the plugin's parser.
pub type HttpResponse = http::Response<Vec<u8>>;

/// The entry point of an HTTP provider plugin (exported with `export_http_plugin!`).
pub trait HTTPLLMProviderFactory: Send + Sync {
    /// The provider's name, e.g. `"openai"`.
    fn name(&self) -> String;
    /// The environment variable holding this provider's API key, if it uses one.
    fn api_key_name(&self) -> Option<String> {
        None
    }
    /// JSON Schema (as text) of the config `from_config` accepts; the host validates against it.
    fn config_schema(&self) -> String;
    /// Builds a provider from its merged, validated config (JSON text).
    fn from_config(&self, config: &str) -> Result<Box<dyn HTTPLLMProvider>, PluginError>;
    /// The request that lists the provider's models.
    fn list_models_request(&self, config: &str) -> Result<HttpRequest, PluginError>;
    /// Reads the model list out of the response to `list_models_request`.
    fn parse_list_models(&self, response: HttpResponse) -> Result<Vec<String>, PluginError>;
    /// A fixed model list, when the provider has one; the host then makes no request.
    fn list_models_static(&self, _config: &str) -> Option<Vec<String>> {
        None
    }
    /// Whether model names outside the list are accepted.
    fn supports_custom_models(&self) -> bool {
        true
    }
}

/// A configured HTTP provider.
pub trait HTTPLLMProvider: Send + Sync {
    /// The request for a chat turn.
    fn chat_request(
        &self,
        messages: &[ChatMessage],
        tools: Option<&[Tool]>,
    ) -> Result<HttpRequest, PluginError>;
    /// The request for a chat turn with the call's own settings (system prompts, tool choice,
    /// generation parameters: `call.params`); `stream` asks for a streamed answer. By default a
    /// call that sets any is `UNSUPPORTED` (naming it), and one that sets none goes to
    /// `chat_request` / `chat_stream_request`.
    fn chat_call_request(
        &self,
        call: &ChatCall<'_>,
        stream: bool,
    ) -> Result<HttpRequest, PluginError> {
        call.params.refuse_all()?;
        if stream {
            self.chat_stream_request(call.messages, call.tools)
        } else {
            self.chat_request(call.messages, call.tools)
        }
    }
    /// Reads a chat answer out of a 2xx response.
    fn parse_chat(&self, response: HttpResponse) -> Result<ChatResponse, PluginError>;
    /// Whether `chat_stream_request` and `chat_stream_parser` are implemented.
    fn supports_streaming(&self) -> bool {
        false
    }
    /// The request for a streamed chat turn.
    fn chat_stream_request(
        &self,
        _messages: &[ChatMessage],
        _tools: Option<&[Tool]>,
    ) -> Result<HttpRequest, PluginError> {
        Err(PluginError::unsupported("streaming"))
    }
    /// A fresh parser for one streamed response body.
    fn chat_stream_parser(&self) -> Result<Box<dyn ChatStreamParser>, PluginError> {
        Err(PluginError::unsupported("streaming"))
    }
    /// Turns a non-2xx response into a specific error; `None` lets the host classify it by status.
    fn classify_error(&self, _response: &HttpResponse) -> Option<PluginError> {
        None
    }
    /// The request that embeds `inputs`.
    fn embed_request(&self, _inputs: &[String]) -> Result<HttpRequest, PluginError> {
        Err(PluginError::unsupported("embeddings"))
    }
    /// Reads one vector per input out of the embedding response.
    fn parse_embed(&self, _response: HttpResponse) -> Result<Vec<Vec<f32>>, PluginError> {
        Err(PluginError::unsupported("embeddings"))
    }
    /// The request for a text completion.
    fn complete_request(&self, _request: &CompletionRequest) -> Result<HttpRequest, PluginError> {
        Err(PluginError::unsupported("completions"))
    }
    /// Reads a completion out of its response.
    fn parse_complete(&self, _response: HttpResponse) -> Result<CompletionResponse, PluginError> {
        Err(PluginError::unsupported("completions"))
    }
    /// The request that transcribes audio (speech-to-text).
    fn stt_request(&self, _request: &SttRequest) -> Result<HttpRequest, PluginError> {
        Err(PluginError::unsupported("transcription"))
    }
    /// Reads a transcription out of its response.
    fn parse_stt(&self, _response: HttpResponse) -> Result<SttResponse, PluginError> {
        Err(PluginError::unsupported("transcription"))
    }
    /// The request that speaks text (text-to-speech).
    fn tts_request(&self, _request: &TtsRequest) -> Result<HttpRequest, PluginError> {
        Err(PluginError::unsupported("speech"))
    }
    /// Reads spoken audio out of its response.
    fn parse_tts(&self, _response: HttpResponse) -> Result<TtsResponse, PluginError> {
        Err(PluginError::unsupported("speech"))
    }
}

/// Parses one streamed response body. The host splits the body on `\n` and feeds each line
/// (newline included) to `parse_chunk`; at the end it feeds a final `"\n"` and calls `finish`.
pub trait ChatStreamParser: Send {
    /// Parses one line; returns the events it completes.
    fn parse_chunk(&mut self, chunk: &[u8]) -> Result<Vec<StreamChunk>, PluginError>;
    /// Ends the stream; an incomplete stream must be an error, never a clean finish.
    fn finish(&mut self) -> Result<Vec<StreamChunk>, PluginError>;
}
