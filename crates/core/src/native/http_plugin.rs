//! `NativeHttp`: a native HTTP plugin's provider as the host's [`HttpPlugin`]: every call goes
//! through the SDK's panic-guarded boundary.
use std::sync::Arc;

use async_trait::async_trait;
use modelport_plugin::boundary::{HttpFactoryBoundary, HttpProviderBoundary, StreamParserBoundary};
use modelport_plugin::{
    ChatMessage, ChatResponse, CompletionRequest, CompletionResponse, HttpRequest, HttpResponse,
    StreamChunk, SttRequest, SttResponse, Tool, TtsRequest, TtsResponse,
};

use super::{unguard, unguard_value};
use crate::error::{ModelportError, Result};
use crate::host_http::{HttpPlugin, Operation, StreamParser};
use crate::http::{HttpEngine, HttpOptions};

/// A configured native HTTP provider, with its factory (for the model list) and where its
/// requests go.
pub(crate) struct NativeHttp {
    name: String,
    provider: Box<dyn HttpProviderBoundary>,
    factory: Arc<dyn HttpFactoryBoundary>,
    /// The config as JSON text, which the factory's model-list calls take.
    config: String,
    engine: HttpEngine,
    http: HttpOptions,
}

impl NativeHttp {
    /// The provider `factory` makes from `config` (JSON text).
    pub(crate) fn new(
        name: &str,
        factory: Arc<dyn HttpFactoryBoundary>,
        config: String,
        engine: HttpEngine,
        http: HttpOptions,
    ) -> Result<Self> {
        let provider = unguard(name, "from_config", factory.from_config(&config))?;
        Ok(Self {
            name: name.to_string(),
            provider,
            factory,
            config,
            engine,
            http,
        })
    }
}

#[async_trait]
impl HttpPlugin for NativeHttp {
    fn name(&self) -> &str {
        &self.name
    }

    fn http(&self) -> (&HttpEngine, &HttpOptions) {
        (&self.engine, &self.http)
    }

    async fn chat_request(
        &self,
        messages: &[ChatMessage],
        tools: Option<&[Tool]>,
        stream: bool,
    ) -> Result<HttpRequest> {
        if stream {
            let request = self.provider.chat_stream_request(messages, tools);
            unguard(&self.name, "chat_stream_request", request)
        } else {
            unguard(
                &self.name,
                "chat_request",
                self.provider.chat_request(messages, tools),
            )
        }
    }

    async fn parse_chat(&self, response: HttpResponse) -> Result<ChatResponse> {
        unguard(&self.name, "parse_chat", self.provider.parse_chat(response))
    }

    async fn supports_streaming(&self) -> Result<bool> {
        unguard_value(
            &self.name,
            "supports_streaming",
            self.provider.supports_streaming(),
        )
    }

    async fn stream_parser(&self) -> Result<Box<dyn StreamParser>> {
        let parser = unguard(
            &self.name,
            "chat_stream_parser",
            self.provider.chat_stream_parser(),
        )?;
        Ok(Box::new(NativeStreamParser {
            name: self.name.clone(),
            parser,
        }))
    }

    /// The plugin's `classify_error`, for every operation.
    async fn classify_error(
        &self,
        _operation: Operation,
        response: &HttpResponse,
    ) -> Option<ModelportError> {
        match unguard_value(
            &self.name,
            "classify_error",
            self.provider.classify_error(response),
        ) {
            Ok(Some(err)) => Some(ModelportError::from_plugin_response(
                &self.name, err, response,
            )),
            Ok(None) => None,
            Err(panicked) => Some(panicked),
        }
    }

    async fn embed_request(&self, inputs: &[String]) -> Result<HttpRequest> {
        unguard(
            &self.name,
            "embed_request",
            self.provider.embed_request(inputs),
        )
    }

    async fn parse_embed(&self, response: HttpResponse) -> Result<Vec<Vec<f32>>> {
        unguard(
            &self.name,
            "parse_embed",
            self.provider.parse_embed(response),
        )
    }

    async fn complete_request(&self, request: &CompletionRequest) -> Result<HttpRequest> {
        unguard(
            &self.name,
            "complete_request",
            self.provider.complete_request(request),
        )
    }

    async fn parse_complete(&self, response: HttpResponse) -> Result<CompletionResponse> {
        unguard(
            &self.name,
            "parse_complete",
            self.provider.parse_complete(response),
        )
    }

    async fn list_models_static(&self) -> Result<Option<Vec<String>>> {
        let models = self.factory.list_models_static(&self.config);
        unguard_value(&self.name, "list_models_static", models)
    }

    async fn list_models_request(&self) -> Result<HttpRequest> {
        let request = self.factory.list_models_request(&self.config);
        unguard(&self.name, "list_models_request", request)
    }

    async fn parse_list_models(&self, response: HttpResponse) -> Result<Vec<String>> {
        let models = self.factory.parse_list_models(response);
        unguard(&self.name, "parse_list_models", models)
    }

    async fn transcription_request(&self, request: &SttRequest) -> Result<HttpRequest> {
        unguard(
            &self.name,
            "stt_request",
            self.provider.stt_request(request),
        )
    }

    async fn parse_transcription(&self, response: HttpResponse) -> Result<SttResponse> {
        unguard(&self.name, "parse_stt", self.provider.parse_stt(response))
    }

    async fn speech_request(&self, request: &TtsRequest) -> Result<HttpRequest> {
        unguard(
            &self.name,
            "tts_request",
            self.provider.tts_request(request),
        )
    }

    async fn parse_speech(&self, response: HttpResponse) -> Result<TtsResponse> {
        unguard(&self.name, "parse_tts", self.provider.parse_tts(response))
    }
}

/// A native stream parser, called through its guard.
struct NativeStreamParser {
    name: String,
    parser: Box<dyn StreamParserBoundary>,
}

#[async_trait]
impl StreamParser for NativeStreamParser {
    async fn parse(&mut self, lines: Vec<Vec<u8>>) -> Result<Vec<StreamChunk>> {
        let mut events = Vec::new();
        for line in lines {
            events.extend(unguard(
                &self.name,
                "parse_chunk",
                self.parser.parse_chunk(&line),
            )?);
        }
        Ok(events)
    }

    async fn finish(&mut self) -> Result<Vec<StreamChunk>> {
        unguard(&self.name, "finish", self.parser.finish())
    }
}
