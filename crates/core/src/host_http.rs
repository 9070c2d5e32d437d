//! The exchange of a plugin whose HTTP the host performs: the plugin builds a request, the host
//! sends it, the plugin parses the answer (or classifies the failure); a stream's body is fed to
//! the plugin's parser line by line. One implementation for every plugin of that kind: native
//! HTTP plugins (`native::NativeHttp`) and QueryMT v2 Wasm plugins (`wasm::WasmProvider`) are
//! both an [`HttpPlugin`].
use async_trait::async_trait;
use modelport_plugin::{
    CallParams, ChatMessage, ChatResponse, CompletionRequest, CompletionResponse, HttpRequest,
    HttpResponse, StreamChunk, SttRequest, SttResponse, Tool, TtsRequest, TtsResponse,
};

use crate::error::{ErrorCode, ModelportError, Result};
use crate::http::{HttpEngine, HttpOptions, HttpStream, classify_status};
use crate::retry::RetryPolicy;
use crate::stream::{ChunkSender, LineSplitter};

/// What a request is for: a plugin may classify failures of some operations only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    Chat,
    Embed,
    Complete,
    Transcribe,
    Speech,
    ListModels,
}

/// A plugin that builds requests and parses responses; the host does the HTTP.
#[async_trait]
pub(crate) trait HttpPlugin: Send + Sync {
    /// The plugin's config name, for errors.
    fn name(&self) -> &str;
    /// The engine and settings (limits, allow-list) its requests go out with.
    fn http(&self) -> (&HttpEngine, &HttpOptions);
    /// The request for a chat turn with the call's own settings (`stream`: a streamed one).
    async fn chat_request(
        &self,
        messages: &[ChatMessage],
        tools: Option<&[Tool]>,
        params: &CallParams,
        stream: bool,
    ) -> Result<HttpRequest>;
    /// A chat answer out of a 2xx response.
    async fn parse_chat(&self, response: HttpResponse) -> Result<ChatResponse>;
    /// Whether it streams; otherwise a stream is its whole answer told as events.
    async fn supports_streaming(&self) -> Result<bool>;
    /// A fresh parser for one streamed body.
    async fn stream_parser(&self) -> Result<Box<dyn StreamParser>>;
    /// Its reading of a non-2xx response to `operation`; `None` leaves it to the host.
    async fn classify_error(
        &self,
        operation: Operation,
        response: &HttpResponse,
    ) -> Option<ModelportError>;
    async fn embed_request(&self, inputs: &[String]) -> Result<HttpRequest>;
    async fn parse_embed(&self, response: HttpResponse) -> Result<Vec<Vec<f32>>>;
    async fn complete_request(&self, request: &CompletionRequest) -> Result<HttpRequest>;
    async fn parse_complete(&self, response: HttpResponse) -> Result<CompletionResponse>;
    /// A fixed model list, when the plugin has one (then no request is made).
    async fn list_models_static(&self) -> Result<Option<Vec<String>>>;
    async fn list_models_request(&self) -> Result<HttpRequest>;
    async fn parse_list_models(&self, response: HttpResponse) -> Result<Vec<String>>;
    /// The request that transcribes audio; by default the plugin has none.
    async fn transcription_request(&self, _request: &SttRequest) -> Result<HttpRequest> {
        Err(unsupported(self.name(), "transcription"))
    }
    async fn parse_transcription(&self, _response: HttpResponse) -> Result<SttResponse> {
        Err(unsupported(self.name(), "transcription"))
    }
    /// The request that speaks text; by default the plugin has none.
    async fn speech_request(&self, _request: &TtsRequest) -> Result<HttpRequest> {
        Err(unsupported(self.name(), "speech"))
    }
    async fn parse_speech(&self, _response: HttpResponse) -> Result<TtsResponse> {
        Err(unsupported(self.name(), "speech"))
    }
}

/// A plugin's parser of one streamed body.
#[async_trait]
pub(crate) trait StreamParser: Send {
    /// Parses one or more complete lines (each with its `\n`, one contiguous slice), in order;
    /// returns their events.
    async fn parse(&mut self, lines: &[u8]) -> Result<Vec<StreamChunk>>;
    /// Ends the body; an incomplete answer is an error, never a clean finish.
    async fn finish(&mut self) -> Result<Vec<StreamChunk>>;
}

fn unsupported(plugin: &str, what: &str) -> ModelportError {
    ModelportError::new(
        ErrorCode::Unsupported,
        format!("this plugin does not support {what}"),
    )
    .with_plugin(plugin)
}

/// Sends `request`; returns the response once a 2xx head arrives, or the failure as the plugin
/// (else the host) classifies it.
pub(crate) async fn open_ok(
    plugin: &dyn HttpPlugin,
    operation: Operation,
    request: HttpRequest,
) -> Result<HttpStream> {
    let name = plugin.name();
    let (engine, options) = plugin.http();
    let stream = engine
        .open(request, options)
        .await
        .map_err(|err| err.with_plugin(name))?;
    if stream.status().is_success() {
        return Ok(stream);
    }
    let response = stream
        .into_response()
        .await
        .map_err(|err| err.with_plugin(name))?;
    Err(match plugin.classify_error(operation, &response).await {
        Some(err) => err.with_plugin(name),
        None => classify_status(&response).with_plugin(name),
    })
}

/// Sends `request` and returns the whole 2xx response, or the classified failure.
pub(crate) async fn exchange(
    plugin: &dyn HttpPlugin,
    operation: Operation,
    request: HttpRequest,
) -> Result<HttpResponse> {
    open_ok(plugin, operation, request)
        .await?
        .into_response()
        .await
        .map_err(|err| err.with_plugin(plugin.name()))
}

/// One chat turn.
pub(crate) async fn chat(
    plugin: &dyn HttpPlugin,
    messages: &[ChatMessage],
    tools: Option<&[Tool]>,
    params: &CallParams,
) -> Result<ChatResponse> {
    let request = plugin.chat_request(messages, tools, params, false).await?;
    let response = exchange(plugin, Operation::Chat, request).await?;
    plugin.parse_chat(response).await
}

/// A streamed chat turn: the response is opened (retried by `policy` until it opens), then its
/// body is fed to the plugin's parser line by line, and a final `finish`.
pub(crate) async fn chat_stream(
    plugin: &dyn HttpPlugin,
    messages: &[ChatMessage],
    tools: Option<&[Tool]>,
    params: &CallParams,
    policy: &RetryPolicy,
    sender: ChunkSender,
) -> Result<()> {
    let mut body = policy
        .run(|| async {
            let request = plugin.chat_request(messages, tools, params, true).await?;
            open_ok(plugin, Operation::Chat, request).await
        })
        .await?;
    let mut parser = plugin.stream_parser().await?;
    let mut lines = LineSplitter::default();
    while let Some(chunk) = body
        .next_chunk()
        .await
        .map_err(|err| err.with_plugin(plugin.name()))?
    {
        let complete = lines.push(&chunk);
        if !complete.is_empty() {
            sender.send(parser.parse(&complete).await?).await?;
        }
    }
    for line in lines.finish() {
        sender.send(parser.parse(&line).await?).await?;
    }
    sender.send(parser.finish().await?).await
}

/// One vector per input.
pub(crate) async fn embed(plugin: &dyn HttpPlugin, inputs: &[String]) -> Result<Vec<Vec<f32>>> {
    let request = plugin.embed_request(inputs).await?;
    let response = exchange(plugin, Operation::Embed, request).await?;
    plugin.parse_embed(response).await
}

/// A text completion.
pub(crate) async fn complete(
    plugin: &dyn HttpPlugin,
    request: &CompletionRequest,
) -> Result<CompletionResponse> {
    let http = plugin.complete_request(request).await?;
    let response = exchange(plugin, Operation::Complete, http).await?;
    plugin.parse_complete(response).await
}

/// A transcription.
pub(crate) async fn transcribe(
    plugin: &dyn HttpPlugin,
    request: &SttRequest,
) -> Result<SttResponse> {
    let http = plugin.transcription_request(request).await?;
    let response = exchange(plugin, Operation::Transcribe, http).await?;
    plugin.parse_transcription(response).await
}

/// Spoken audio.
pub(crate) async fn speech(plugin: &dyn HttpPlugin, request: &TtsRequest) -> Result<TtsResponse> {
    let http = plugin.speech_request(request).await?;
    let response = exchange(plugin, Operation::Speech, http).await?;
    plugin.parse_speech(response).await
}

/// The models on offer: the plugin's fixed list, else asked of the server.
pub(crate) async fn list_models(plugin: &dyn HttpPlugin) -> Result<Vec<String>> {
    if let Some(models) = plugin.list_models_static().await? {
        return Ok(models);
    }
    let request = plugin.list_models_request().await?;
    let response = exchange(plugin, Operation::ListModels, request).await?;
    plugin.parse_list_models(response).await
}
