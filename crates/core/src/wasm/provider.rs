//! `WasmProvider`: a provider run by a QueryMT Extism plugin, v2 (the plugin builds requests and
//! parses responses; the host does HTTP) or v1 (the plugin does HTTP through host functions).
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use modelport_plugin::{
    ChatMessage, ChatResponse, CompletionRequest, CompletionResponse, PluginError, SttRequest,
    SttResponse, Tool, TtsRequest, TtsResponse, VoiceConfig,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use tokio_util::sync::CancellationToken;

use super::blocking::on_blocking_thread;
use super::factory::cfg_only;
use super::host_functions::SharedHost;
use super::http_wire::{SerializableRequest, SerializableResponse, guest_json};
use super::pool::{InstancePool, Lease};
use super::stream_parser::GuestStreamParser;
use crate::error::{ErrorCode, ModelportError, Result};
use crate::http::{HttpStream, classify_status};
use crate::retry::RetryPolicy;
use crate::stream::{ChunkSender, LineSplitter};

/// Which QueryMT plugin protocol a module speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// The plugin does HTTP itself through `qmt_http_request` (legacy).
    V1,
    /// The plugin builds requests and parses responses; the host does HTTP.
    V2,
}

/// A configured Wasm provider.
pub struct WasmProvider {
    generation: Generation,
    cfg: Value,
    pool: Arc<InstancePool>,
    /// Optional exports the module has (`classify_chat_error`, `list_models_static`, …).
    optional: Vec<String>,
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

/// Whose reading turns a non-2xx answer into an error.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Failures {
    /// The plugin's `classify_chat_error`, if it exports one (chat, as in QueryMT).
    Chat,
    /// The host's status classification (embeddings, completions, models, as in QueryMT).
    Host,
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
        }
    }

    /// Runs `work` with `lease` on a blocking thread, interruptibly (see [`on_blocking_thread`]).
    pub(crate) async fn on_instance<T, F>(&self, lease: Lease, work: F) -> Result<(Lease, T)>
    where
        F: FnOnce(&mut Lease, &CancellationToken) -> T + Send + 'static,
        T: Send + 'static,
    {
        on_blocking_thread(lease, &self.host().shutdown, work)
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

    /// v2: asks the plugin for a request and sends it; returns a 2xx response once its head
    /// arrives, or the response's error.
    async fn open_ok(
        &self,
        function: &str,
        input: &Value,
        failures: Failures,
    ) -> Result<HttpStream> {
        let plugin = &self.host().plugin;
        let out: SerializableRequest = self.call_parsed(function, input).await?;
        let request = out.req.into_http().map_err(|e| e.with_plugin(plugin))?;
        let stream = self
            .host()
            .engine
            .open(request, &self.host().http)
            .await
            .map_err(|e| e.with_plugin(plugin))?;
        if stream.status().is_success() {
            return Ok(stream);
        }
        let response = stream
            .into_response()
            .await
            .map_err(|e| e.with_plugin(plugin))?;
        Err(match failures {
            Failures::Chat => self.chat_error_of(&response).await,
            Failures::Host => classify_status(&response).with_plugin(plugin),
        })
    }

    /// v2: asks the plugin for a request, performs it, and returns the 2xx response, or the
    /// response's error.
    async fn exchange(
        &self,
        function: &str,
        input: &Value,
        failures: Failures,
    ) -> Result<http::Response<Vec<u8>>> {
        self.open_ok(function, input, failures)
            .await?
            .into_response()
            .await
            .map_err(|e| e.with_plugin(&self.host().plugin))
    }

    /// v2: a non-2xx chat response as the plugin classifies it (`classify_chat_error`, which
    /// answers `{"payload": …}`), or the host.
    async fn chat_error_of(&self, response: &http::Response<Vec<u8>>) -> ModelportError {
        if self.has("classify_chat_error") {
            let input = ParseInput {
                cfg: Some(&self.cfg),
                resp: SerializableResponse::from_http(response),
            };
            if let Ok(out) = self
                .call_parsed::<ErrorOut>("classify_chat_error", &input)
                .await
            {
                return ModelportError::from_plugin_response(
                    &self.host().plugin,
                    out.payload,
                    response,
                );
            }
        }
        classify_status(response).with_plugin(&self.host().plugin)
    }

    /// v2: `build` makes the request from `input`, the host performs it, `parse` reads the answer.
    async fn round_trip<T: DeserializeOwned>(
        &self,
        build: &str,
        input: &Value,
        parse: &str,
        failures: Failures,
    ) -> Result<T> {
        let response = self.exchange(build, input, failures).await?;
        let input = ParseInput {
            cfg: Some(&self.cfg),
            resp: SerializableResponse::from_http(&response),
        };
        self.call_parsed(parse, &input).await
    }

    /// One chat turn.
    pub async fn chat(
        &self,
        messages: &[ChatMessage],
        tools: Option<&[Tool]>,
    ) -> Result<ChatResponse> {
        let input = json!({"cfg": self.cfg, "messages": messages, "tools": tools});
        match self.generation {
            Generation::V1 => self.call_parsed("chat", &input).await,
            Generation::V2 => {
                self.round_trip(
                    "chat_request",
                    &input,
                    "parse_chat_response",
                    Failures::Chat,
                )
                .await
            }
        }
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
        // QueryMT plugins answer per config (`supports_streaming(cfg)`).
        if !self.has("supports_streaming") {
            return Ok(true);
        }
        self.call_parsed("supports_streaming", &self.cfg).await
    }

    /// A streamed chat turn, its events sent to `sender`. v2: the host opens the HTTP stream
    /// (retried by `retry` until it opens) and feeds its lines to the plugin's parser on one
    /// pinned instance; v1: the plugin's `chat_stream` yields chunks (retried only while it has
    /// yielded none).
    pub async fn chat_stream(
        &self,
        messages: &[ChatMessage],
        tools: Option<&[Tool]>,
        retry: &RetryPolicy,
        sender: ChunkSender,
    ) -> Result<()> {
        match self.generation {
            Generation::V2 => {
                let input = json!({"cfg": self.cfg, "messages": messages, "tools": tools});
                let mut body = retry
                    .run(|| self.open_ok("chat_stream_request", &input, Failures::Chat))
                    .await?;
                let mut parser = GuestStreamParser::start(self).await?;
                let mut lines = LineSplitter::default();
                while let Some(chunk) = body
                    .next_chunk()
                    .await
                    .map_err(|e| e.with_plugin(&self.host().plugin))?
                {
                    let complete = lines.push(&chunk);
                    if !complete.is_empty() {
                        sender.send(parser.parse(self, complete).await?).await?;
                    }
                }
                sender
                    .send(parser.parse(self, lines.finish()).await?)
                    .await?;
                sender.send(parser.finish(self).await?).await
            }
            Generation::V1 => {
                let mut cfg = self.cfg.clone();
                if let Value::Object(map) = &mut cfg {
                    map.insert("stream".into(), Value::Bool(true));
                }
                let input =
                    serde_json::to_vec(&json!({"cfg": cfg, "messages": messages, "tools": tools}))
                        .map_err(|err| {
                            ModelportError::new(ErrorCode::InvalidRequest, err.to_string())
                        })?;
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
        }
    }

    /// One vector per input.
    pub async fn embed(&self, inputs: &[String]) -> Result<Vec<Vec<f32>>> {
        let input = json!({"cfg": self.cfg, "inputs": inputs});
        match self.generation {
            Generation::V1 => self.call_parsed("embed", &input).await,
            Generation::V2 => {
                if !self.has("embed_request") {
                    return Err(ModelportError::new(
                        ErrorCode::Unsupported,
                        "this plugin does not support embeddings",
                    )
                    .with_plugin(&self.host().plugin));
                }
                self.round_trip(
                    "embed_request",
                    &input,
                    "parse_embed_response",
                    Failures::Host,
                )
                .await
            }
        }
    }

    /// A text completion.
    pub async fn complete(&self, request: &CompletionRequest) -> Result<CompletionResponse> {
        let input = json!({"cfg": self.cfg, "req": request});
        match self.generation {
            Generation::V1 => self.call_parsed("complete", &input).await,
            Generation::V2 => {
                self.round_trip(
                    "complete_request",
                    &input,
                    "parse_complete_response",
                    Failures::Host,
                )
                .await
            }
        }
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

    /// The models available under this provider's config.
    pub async fn list_models(&self) -> Result<Vec<String>> {
        match self.generation {
            Generation::V1 => self.call_parsed("list_models", &self.cfg).await,
            Generation::V2 => {
                if self.has("list_models_static") {
                    if let Some(models) = self
                        .call_parsed::<Option<Vec<String>>>(
                            "list_models_static",
                            &cfg_only(&self.cfg),
                        )
                        .await?
                    {
                        return Ok(models);
                    }
                }
                let response = self
                    .exchange("list_models_request", &cfg_only(&self.cfg), Failures::Host)
                    .await?;
                let input = ParseInput {
                    cfg: None,
                    resp: SerializableResponse::from_http(&response),
                };
                self.call_parsed("parse_list_models_response", &input).await
            }
        }
    }
}
