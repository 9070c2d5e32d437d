//! `NativeHttp`: a native HTTP plugin's provider as the host's [`HttpPlugin`], through the C ABI.
use std::borrow::Cow;
use std::sync::Arc;

use async_trait::async_trait;
use modelport_plugin::abi::{
    MP_OP_CHAT_REQUEST, MP_OP_CLASSIFY_ERROR, MP_OP_COMPLETE_REQUEST, MP_OP_EMBED_REQUEST,
    MP_OP_FINISH, MP_OP_FROM_CONFIG, MP_OP_LIST_MODELS_REQUEST, MP_OP_LIST_MODELS_STATIC,
    MP_OP_PARSE_CHAT, MP_OP_PARSE_COMPLETE, MP_OP_PARSE_EMBED, MP_OP_PARSE_LINES,
    MP_OP_PARSE_LIST_MODELS, MP_OP_PARSE_SPEECH, MP_OP_PARSE_TRANSCRIBE, MP_OP_SPEECH_REQUEST,
    MP_OP_STREAM_PARSER, MP_OP_SUPPORTS_STREAMING, MP_OP_TRANSCRIBE_REQUEST,
};
use modelport_plugin::wire::{self, ChatInput, EmbedInput};
use modelport_plugin::{
    CallParams, ChatMessage, ChatResponse, CompletionRequest, CompletionResponse, HttpRequest,
    HttpResponse, PluginError, StreamChunk, SttRequest, SttResponse, Tool, TtsRequest, TtsResponse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::object::PluginObject;
use crate::error::{ModelportError, Result};
use crate::host_http::{HttpPlugin, Operation, StreamParser};
use crate::http::{HttpEngine, HttpOptions};

/// A configured native HTTP provider, with its factory (for the model list) and where its
/// requests go. Field order: the provider is released before the factory.
pub(crate) struct NativeHttp {
    provider: PluginObject,
    factory: Arc<PluginObject>,
    /// The config as JSON text, which the factory's model-list calls take.
    config: String,
    engine: HttpEngine,
    http: HttpOptions,
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("host values serialize")
}

impl NativeHttp {
    /// The provider `factory` makes from `config` (JSON text).
    pub(crate) fn new(
        factory: Arc<PluginObject>,
        config: String,
        engine: HttpEngine,
        http: HttpOptions,
    ) -> Result<Self> {
        let provider = factory.call_make("from_config", MP_OP_FROM_CONFIG, config.as_bytes())?;
        Ok(Self {
            provider,
            factory,
            config,
            engine,
            http,
        })
    }

    /// Runs a parse operation on `response`.
    fn parse<T: DeserializeOwned>(
        object: &PluginObject,
        operation: &str,
        op: u32,
        response: &HttpResponse,
    ) -> Result<T> {
        object.call_json(
            operation,
            op,
            &wire::response_head(response),
            response.body(),
        )
    }
}

#[async_trait]
impl HttpPlugin for NativeHttp {
    fn name(&self) -> &str {
        self.provider.plugin()
    }

    fn http(&self) -> (&HttpEngine, &HttpOptions) {
        (&self.engine, &self.http)
    }

    async fn chat_request(
        &self,
        messages: &[ChatMessage],
        tools: Option<&[Tool]>,
        params: &CallParams,
        stream: bool,
    ) -> Result<HttpRequest> {
        let input = ChatInput {
            messages: Cow::Borrowed(messages),
            tools: tools.map(Cow::Borrowed),
            params: Cow::Borrowed(params),
            stream,
        };
        self.provider
            .call_request("chat_request", MP_OP_CHAT_REQUEST, &to_json(&input))
    }

    async fn parse_chat(&self, response: HttpResponse) -> Result<ChatResponse> {
        Self::parse(&self.provider, "parse_chat", MP_OP_PARSE_CHAT, &response)
    }

    async fn supports_streaming(&self) -> Result<bool> {
        self.provider
            .call_json("supports_streaming", MP_OP_SUPPORTS_STREAMING, &[], &[])
    }

    async fn stream_parser(&self) -> Result<Box<dyn StreamParser>> {
        let parser = self
            .provider
            .call_make("chat_stream_parser", MP_OP_STREAM_PARSER, &[])?;
        Ok(Box::new(NativeStreamParser { parser }))
    }

    /// The plugin's `classify_error`, for every operation.
    async fn classify_error(
        &self,
        _operation: Operation,
        response: &HttpResponse,
    ) -> Option<ModelportError> {
        let classified: Result<Option<PluginError>> = Self::parse(
            &self.provider,
            "classify_error",
            MP_OP_CLASSIFY_ERROR,
            response,
        );
        match classified {
            Ok(Some(err)) => Some(ModelportError::from_plugin_response(
                self.provider.plugin(),
                err,
                response,
            )),
            Ok(None) => None,
            Err(failed) => Some(failed),
        }
    }

    async fn embed_request(&self, inputs: &[String]) -> Result<HttpRequest> {
        let input = EmbedInput {
            inputs: Cow::Borrowed(inputs),
        };
        self.provider
            .call_request("embed_request", MP_OP_EMBED_REQUEST, &to_json(&input))
    }

    async fn parse_embed(&self, response: HttpResponse) -> Result<Vec<Vec<f32>>> {
        Self::parse(&self.provider, "parse_embed", MP_OP_PARSE_EMBED, &response)
    }

    async fn complete_request(&self, request: &CompletionRequest) -> Result<HttpRequest> {
        self.provider.call_request(
            "complete_request",
            MP_OP_COMPLETE_REQUEST,
            &to_json(request),
        )
    }

    async fn parse_complete(&self, response: HttpResponse) -> Result<CompletionResponse> {
        Self::parse(
            &self.provider,
            "parse_complete",
            MP_OP_PARSE_COMPLETE,
            &response,
        )
    }

    async fn list_models_static(&self) -> Result<Option<Vec<String>>> {
        self.factory.call_json(
            "list_models_static",
            MP_OP_LIST_MODELS_STATIC,
            self.config.as_bytes(),
            &[],
        )
    }

    async fn list_models_request(&self) -> Result<HttpRequest> {
        let config = self.config.as_bytes();
        self.factory
            .call_request("list_models_request", MP_OP_LIST_MODELS_REQUEST, config)
    }

    async fn parse_list_models(&self, response: HttpResponse) -> Result<Vec<String>> {
        Self::parse(
            &self.factory,
            "parse_list_models",
            MP_OP_PARSE_LIST_MODELS,
            &response,
        )
    }

    async fn transcription_request(&self, request: &SttRequest) -> Result<HttpRequest> {
        self.provider
            .call_request("stt_request", MP_OP_TRANSCRIBE_REQUEST, &to_json(request))
    }

    async fn parse_transcription(&self, response: HttpResponse) -> Result<SttResponse> {
        Self::parse(
            &self.provider,
            "parse_stt",
            MP_OP_PARSE_TRANSCRIBE,
            &response,
        )
    }

    async fn speech_request(&self, request: &TtsRequest) -> Result<HttpRequest> {
        self.provider
            .call_request("tts_request", MP_OP_SPEECH_REQUEST, &to_json(request))
    }

    async fn parse_speech(&self, response: HttpResponse) -> Result<TtsResponse> {
        Self::parse(&self.provider, "parse_tts", MP_OP_PARSE_SPEECH, &response)
    }
}

/// A native stream parser: every batch of complete lines crosses in one call.
struct NativeStreamParser {
    parser: PluginObject,
}

impl NativeStreamParser {
    fn run(&self, operation: &str, op: u32, body: &[u8]) -> Result<Vec<StreamChunk>> {
        let mut written = self.parser.call_sync(operation, op, &[], body)?;
        self.parser.events(operation, &mut written)
    }
}

#[async_trait]
impl StreamParser for NativeStreamParser {
    async fn parse(&mut self, lines: &[u8]) -> Result<Vec<StreamChunk>> {
        if lines.is_empty() {
            return Ok(Vec::new());
        }
        self.run("parse_chunk", MP_OP_PARSE_LINES, lines)
    }

    async fn finish(&mut self) -> Result<Vec<StreamChunk>> {
        self.run("finish", MP_OP_FINISH, &[])
    }
}
