//! `WasmProvider`: a provider run by a QueryMT Extism plugin, v2 (the plugin builds requests and
//! parses responses; the host does HTTP: an [`HttpPlugin`]) or v1 (the plugin does HTTP through
//! host functions: whole calls).
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use modelport_plugin::{
    CallParams, ChatMessage, ChatResponse, CompletionRequest, CompletionResponse, HttpRequest,
    HttpResponse, PluginError, StreamChunk, SttRequest, SttResponse, Tool, TtsRequest, TtsResponse,
    VoiceConfig,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use tokio_util::sync::CancellationToken;

use super::factory::cfg_only;
use super::host_functions::SharedHost;
use super::http_wire::{SerializableRequest, SerializableResponse, guest_json};
use super::instance_thread::on_instance_thread;
use super::pool::{InstancePool, Lease};
use super::stream_parser::GuestStreamParser;
use crate::error::{ErrorCode, ModelportError, Result};
use crate::host_http::{HttpPlugin, Operation, StreamParser};
use crate::http::{HttpEngine, HttpOptions};
use crate::retry::RetryPolicy;
use crate::stream::ChunkSender;

/// Which QueryMT plugin protocol a module speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// The plugin does HTTP itself through `qmt_http_request` (legacy).
    V1,
    /// The plugin builds requests and parses responses; the host does HTTP.
    V2,
}

/// A configured Wasm provider. Cheap to clone (its instances are shared).
#[derive(Clone)]
pub struct WasmProvider {
    generation: Generation,
    cfg: Value,
    pool: Arc<InstancePool>,
    /// Optional exports the module has (`classify_chat_error`, `list_models_static`, …).
    optional: Vec<String>,
    /// Whether it streams under `cfg`, once asked (the answer depends on the config alone).
    streams: Arc<tokio::sync::OnceCell<bool>>,
}

#[derive(serde::Deserialize)]
struct ErrorOut {
    payload: PluginError,
}

/// What a v2 parser receives: the config (but for `parse_list_models_response`) and the
/// response wrapped as QueryMT's `SerializableHttpResponse`, `{"cfg":…,"resp":{"resp":…}}`,
/// serialized straight from the response's bytes.
#[derive(Serialize)]
struct ParseInput<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    cfg: Option<&'a Value>,
    resp: SerializableResponse<'a>,
}

/// QueryMT's `ExtismSttRequest`: the audio as base64; `prompt` is modelport's extension.
#[derive(Serialize)]
struct TranscribeInput<'a> {
    cfg: &'a Value,
    audio_base64: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    filename: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mime_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt: Option<&'a str>,
}

/// QueryMT's `ExtismVoiceConfig`: tagged by `type`, reference audio as base64.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireVoice<'a> {
    Preset {
        name: &'a str,
    },
    Clone {
        reference_audio_base64: String,
        reference_text: &'a str,
    },
    Design {
        description: &'a str,
    },
}

/// QueryMT's `ExtismTtsRequest`.
#[derive(Serialize)]
struct SpeechInput<'a> {
    cfg: &'a Value,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    voice_config: Option<WireVoice<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    speed: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<&'a str>,
}

/// QueryMT's `ExtismTtsResponse`.
#[derive(serde::Deserialize)]
struct SpeechOutput {
    audio_base64: String,
    #[serde(default)]
    mime_type: Option<String>,
}

impl WasmProvider {
    pub(crate) fn new(
        generation: Generation,
        cfg: Value,
        pool: Arc<InstancePool>,
        optional: Vec<String>,
    ) -> Self {
        Self {
            generation,
            cfg,
            pool,
            optional,
            streams: Arc::default(),
        }
    }

    pub(crate) fn host(&self) -> &SharedHost {
        self.pool.shared()
    }

    pub(crate) fn pool(&self) -> &Arc<InstancePool> {
        &self.pool
    }

    pub(crate) fn cfg(&self) -> &Value {
        &self.cfg
    }

    pub(crate) fn has(&self, function: &str) -> bool {
        self.optional.iter().any(|f| f == function)
    }

    /// A provider like this one with another (validated) config, on the same instances: a
    /// config that keeps the `base_url` keeps the network allow-list too.
    pub(crate) fn with_cfg(&self, cfg: Value) -> Self {
        Self {
            generation: self.generation,
            cfg,
            pool: self.pool.clone(),
            optional: self.optional.clone(),
            streams: Arc::default(),
        }
    }

    /// Runs `work` with `lease` on the instance's thread, interruptibly (see [`on_instance_thread`]).
    pub(crate) async fn on_instance<T, F>(&self, lease: Lease, work: F) -> Result<(Lease, T)>
    where
        F: FnOnce(&mut Lease, &CancellationToken) -> T + Send + 'static,
        T: Send + 'static,
    {
        on_instance_thread(lease, &self.host().shutdown, work)
            .await
            .map_err(|err| err.with_plugin(&self.host().plugin))
    }

    /// `input` as JSON for `function`, refused (`RESPONSE_TOO_LARGE`) before it is made if the
    /// plugin's memory could not hold it.
    pub(crate) fn guest_input(&self, function: &str, input: &impl Serialize) -> Result<Vec<u8>> {
        guest_json(input, self.host().max_input_bytes, function)
            .map_err(|err| err.with_plugin(&self.host().plugin))
    }

    /// Calls `function` with JSON `input` on a pooled instance.
    pub(crate) async fn call_json(
        &self,
        function: &str,
        input: &impl Serialize,
    ) -> Result<Vec<u8>> {
        let bytes = self.guest_input(function, input)?;
        let lease = self.pool.lease().await?;
        let name = function.to_string();
        let (_lease, output) = self
            .on_instance(lease, move |lease, cancel| {
                lease.call(&name, &bytes, cancel)
            })
            .await?;
        output
    }

    async fn call_parsed<T: DeserializeOwned>(
        &self,
        function: &str,
        input: &impl Serialize,
    ) -> Result<T> {
        let output = self.call_json(function, input).await?;
        serde_json::from_slice(&output).map_err(|err| {
            ModelportError::new(
                ErrorCode::ParseError,
                format!("{function} returned unexpected JSON: {err}"),
            )
            .with_plugin(&self.host().plugin)
        })
    }

    /// Which protocol it speaks.
    pub(crate) fn generation(&self) -> Generation {
        self.generation
    }

    /// v1: one chat turn (the plugin does the HTTP).
    pub async fn chat(
        &self,
        messages: &[ChatMessage],
        tools: Option<&[Tool]>,
    ) -> Result<ChatResponse> {
        let input = json!({"cfg": self.cfg, "messages": messages, "tools": tools});
        self.call_parsed("chat", &input).await
    }

    /// Whether the plugin streams (v2: it has a stream parser; v1: `chat_stream`) under this
    /// config; otherwise the caller tells the whole answer as events.
    pub async fn streams(&self) -> Result<bool> {
        let streamer = match self.generation {
            Generation::V2 => "chat_stream_parser_start",
            Generation::V1 => "chat_stream",
        };
        if !self.has(streamer) {
            return Ok(false);
        }
        // QueryMT plugins answer per config (`supports_streaming(cfg)`), asked once per provider.
        if !self.has("supports_streaming") {
            return Ok(true);
        }
        self.streams
            .get_or_try_init(|| self.call_parsed("supports_streaming", &self.cfg))
            .await
            .copied()
    }

    /// v1: a streamed chat turn, its events sent to `sender`: the plugin's `chat_stream` yields
    /// chunks (retried only while it has yielded none).
    pub async fn chat_stream(
        &self,
        messages: &[ChatMessage],
        tools: Option<&[Tool]>,
        retry: &RetryPolicy,
        sender: ChunkSender,
    ) -> Result<()> {
        let mut cfg = self.cfg.clone();
        if let Value::Object(map) = &mut cfg {
            map.insert("stream".into(), Value::Bool(true));
        }
        let input = serde_json::to_vec(&json!({"cfg": cfg, "messages": messages, "tools": tools}))
            .map_err(|err| ModelportError::new(ErrorCode::InvalidRequest, err.to_string()))?;
        let attempt = || async {
            let mut lease = self.pool.lease().await?;
            let sink = sender.clone();
            lease.with_host(|host| host.set_chunk_sink(Some(sink)))?;
            let input = input.clone();
            let (_lease, output) = self
                .on_instance(lease, move |lease, cancel| {
                    lease.call("chat_stream", &input, cancel)
                })
                .await?;
            output.map(drop)
        };
        retry.run_while(attempt, || !sender.delivered()).await
    }

    /// v1: one vector per input.
    pub async fn embed(&self, inputs: &[String]) -> Result<Vec<Vec<f32>>> {
        self.call_parsed("embed", &json!({"cfg": self.cfg, "inputs": inputs}))
            .await
    }

    /// v1: a text completion.
    pub async fn complete(&self, request: &CompletionRequest) -> Result<CompletionResponse> {
        self.call_parsed("complete", &json!({"cfg": self.cfg, "req": request}))
            .await
    }

    fn unsupported(&self, what: &str, export: &str) -> ModelportError {
        ModelportError::new(
            ErrorCode::Unsupported,
            format!("this plugin does not support {what} (it exports no `{export}`)"),
        )
        .with_plugin(&self.host().plugin)
    }

    /// Transcribes audio through the plugin's `transcribe` export (the plugin sends the request
    /// itself, through `qmt_http_request`).
    pub async fn transcribe(&self, request: &SttRequest) -> Result<SttResponse> {
        if !self.has("transcribe") {
            return Err(self.unsupported("transcription", "transcribe"));
        }
        let input = TranscribeInput {
            cfg: &self.cfg,
            audio_base64: BASE64.encode(&request.audio),
            filename: request.filename.as_deref(),
            mime_type: request.mime_type.as_deref(),
            model: request.model.as_deref(),
            language: request.language.as_deref(),
            prompt: request.prompt.as_deref(),
        };
        self.call_parsed("transcribe", &input).await
    }

    /// Speaks text through the plugin's `speech` export.
    pub async fn speech(&self, request: &TtsRequest) -> Result<TtsResponse> {
        if !self.has("speech") {
            return Err(self.unsupported("speech", "speech"));
        }
        let voice_config = request.voice_config.as_ref().map(|voice| match voice {
            VoiceConfig::Preset { name } => WireVoice::Preset { name },
            VoiceConfig::Clone {
                reference_audio,
                reference_text,
            } => WireVoice::Clone {
                reference_audio_base64: BASE64.encode(reference_audio),
                reference_text,
            },
            VoiceConfig::Design { description } => WireVoice::Design { description },
        });
        let input = SpeechInput {
            cfg: &self.cfg,
            text: &request.text,
            model: request.model.as_deref(),
            voice_config,
            format: request.format.as_deref(),
            speed: request.speed,
            language: request.language.as_deref(),
        };
        let output: SpeechOutput = self.call_parsed("speech", &input).await?;
        let audio = BASE64.decode(output.audio_base64.trim()).map_err(|err| {
            ModelportError::new(
                ErrorCode::ParseError,
                format!("speech returned audio that is not base64: {err}"),
            )
            .with_plugin(&self.host().plugin)
        })?;
        Ok(TtsResponse {
            audio,
            mime_type: output.mime_type,
        })
    }

    /// v1: the models available under this provider's config.
    pub async fn list_models(&self) -> Result<Vec<String>> {
        self.call_parsed("list_models", &self.cfg).await
    }

    /// `function`'s `{"req": …}` output as the request it describes.
    async fn request_of(&self, function: &str, input: &impl Serialize) -> Result<HttpRequest> {
        let out: SerializableRequest = self.call_parsed(function, input).await?;
        out.req
            .into_http()
            .map_err(|err| err.with_plugin(&self.host().plugin))
    }

    /// `function`'s reading of `response`, handed over as `{"cfg":…,"resp":{"resp":…}}`.
    async fn parse<T: DeserializeOwned>(
        &self,
        function: &str,
        response: &HttpResponse,
        with_cfg: bool,
    ) -> Result<T> {
        let input = ParseInput {
            cfg: with_cfg.then_some(&self.cfg),
            resp: SerializableResponse::from_http(response),
        };
        self.call_parsed(function, &input).await
    }
}

/// A v2 plugin: the host performs the HTTP of the requests it builds.
#[async_trait]
impl HttpPlugin for WasmProvider {
    fn name(&self) -> &str {
        &self.host().plugin
    }

    fn http(&self) -> (&HttpEngine, &HttpOptions) {
        (&self.host().engine, &self.host().http)
    }

    async fn chat_request(
        &self,
        messages: &[ChatMessage],
        tools: Option<&[Tool]>,
        // QueryMT's protocol carries a call's settings in `cfg` only: the provider derives a
        // Wasm provider with them laid over its config (`Provider::for_call`) and passes none.
        _params: &CallParams,
        stream: bool,
    ) -> Result<HttpRequest> {
        let function = if stream {
            "chat_stream_request"
        } else {
            "chat_request"
        };
        let input = json!({"cfg": self.cfg, "messages": messages, "tools": tools});
        self.request_of(function, &input).await
    }

    async fn parse_chat(&self, response: HttpResponse) -> Result<ChatResponse> {
        self.parse("parse_chat_response", &response, true).await
    }

    async fn supports_streaming(&self) -> Result<bool> {
        self.streams().await
    }

    async fn stream_parser(&self) -> Result<Box<dyn StreamParser>> {
        let parser = GuestStreamParser::start(self).await?;
        Ok(Box::new(WasmStreamParser {
            parser,
            provider: self.clone(),
        }))
    }

    /// QueryMT's `classify_chat_error` (answering `{"payload": …}`), for chat only, as in QueryMT:
    /// other failures are the host's to classify.
    async fn classify_error(
        &self,
        operation: Operation,
        response: &HttpResponse,
    ) -> Option<ModelportError> {
        if operation != Operation::Chat || !self.has("classify_chat_error") {
            return None;
        }
        let out: ErrorOut = self
            .parse("classify_chat_error", response, true)
            .await
            .ok()?;
        Some(ModelportError::from_plugin_response(
            &self.host().plugin,
            out.payload,
            response,
        ))
    }

    async fn embed_request(&self, inputs: &[String]) -> Result<HttpRequest> {
        if !self.has("embed_request") {
            return Err(self.unsupported("embeddings", "embed_request"));
        }
        self.request_of("embed_request", &json!({"cfg": self.cfg, "inputs": inputs}))
            .await
    }

    async fn parse_embed(&self, response: HttpResponse) -> Result<Vec<Vec<f32>>> {
        self.parse("parse_embed_response", &response, true).await
    }

    async fn complete_request(&self, request: &CompletionRequest) -> Result<HttpRequest> {
        self.request_of(
            "complete_request",
            &json!({"cfg": self.cfg, "req": request}),
        )
        .await
    }

    async fn parse_complete(&self, response: HttpResponse) -> Result<CompletionResponse> {
        self.parse("parse_complete_response", &response, true).await
    }

    async fn list_models_static(&self) -> Result<Option<Vec<String>>> {
        if !self.has("list_models_static") {
            return Ok(None);
        }
        self.call_parsed("list_models_static", &cfg_only(&self.cfg))
            .await
    }

    async fn list_models_request(&self) -> Result<HttpRequest> {
        self.request_of("list_models_request", &cfg_only(&self.cfg))
            .await
    }

    async fn parse_list_models(&self, response: HttpResponse) -> Result<Vec<String>> {
        self.parse("parse_list_models_response", &response, false)
            .await
    }
}

/// A guest stream parser with the provider whose pinned instance holds it.
struct WasmStreamParser {
    parser: GuestStreamParser,
    provider: WasmProvider,
}

#[async_trait]
impl StreamParser for WasmStreamParser {
    async fn parse(&mut self, lines: &[u8]) -> Result<Vec<StreamChunk>> {
        self.parser.parse(&self.provider, lines).await
    }

    async fn finish(&mut self) -> Result<Vec<StreamChunk>> {
        self.parser.finish(&self.provider).await
    }
}
