//! `Provider`: a configured provider, the same object whatever transport runs it.
use std::future::Future;
use std::sync::Arc;

use modelport_plugin::boundary::{HttpProviderBoundary, ProviderBoundary};
use modelport_plugin::{
    ChatMessage, ChatResponse, CompletionRequest, CompletionResponse, HttpRequest, HttpResponse,
    StreamChunk, SttRequest, SttResponse, Tool, TtsRequest, TtsResponse,
};
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::call::{CallOptions, CallScope};
use crate::error::{ErrorCode, ModelportError, Result};
use crate::http::{HttpEngine, HttpStream, classify_status};
use crate::native::{unguard, unguard_value};
use crate::plugin::LoadedPlugin;
use crate::retry::RetryPolicy;
use crate::stream::{ChatStream, ChunkSender, LineSplitter, events_of};
use crate::wasm::WasmProvider;

/// The plugin object behind a provider.
pub(crate) enum Backend {
    /// A native HTTP provider: it builds requests and parses responses, the host does HTTP.
    Http(Box<dyn HttpProviderBoundary>),
    /// A native async provider: it does the work itself.
    Async(Box<dyn ProviderBoundary>),
    /// A Wasm provider (QueryMT v1 or v2) on its own instance pool.
    Wasm(WasmProvider),
}

/// A provider built from a plugin and a config. Cheap to clone; keeps its plugin loaded.
#[derive(Clone)]
pub struct Provider {
    inner: Arc<ProviderInner>,
}

/// Field order matters: the backend (plugin code) drops before the plugin that holds the library.
struct ProviderInner {
    backend: Backend,
    config: Map<String, Value>,
    engine: HttpEngine,
    shutdown: CancellationToken,
    plugin: Arc<LoadedPlugin>,
}

impl Provider {
    pub(crate) async fn new(
        plugin: Arc<LoadedPlugin>,
        config: Map<String, Value>,
        engine: HttpEngine,
        shutdown: CancellationToken,
    ) -> Result<Self> {
        let backend = plugin.instantiate(&config, &engine, &shutdown).await?;
        Ok(Self {
            inner: Arc::new(ProviderInner {
                backend,
                config,
                engine,
                shutdown,
                plugin,
            }),
        })
    }

    /// The config name of the plugin behind it.
    pub fn plugin_name(&self) -> &str {
        &self.inner.plugin.info().name
    }

    /// The validated config it was built with.
    pub fn config(&self) -> &Map<String, Value> {
        &self.inner.config
    }

    fn scope(&self, options: &CallOptions) -> CallScope {
        CallScope::new(self.plugin_name(), options, &self.inner.shutdown)
    }

    /// The retry policy of a call: the provider's, with the call's own limit if it set one.
    fn retry_policy(&self, options: &CallOptions) -> RetryPolicy {
        self.inner
            .plugin
            .retry_policy()
            .with_max_retries(options.max_retries)
    }

    /// Runs `attempt` with retries, unless the call is ended from outside first.
    async fn run<T, F, Fut>(&self, options: &CallOptions, attempt: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let policy = self.retry_policy(options);
        self.scope(options).run(policy.run(attempt)).await
    }

    /// Sends a plugin-built request; returns a 2xx response once its head arrives, or the
    /// classified error.
    async fn open_ok(
        &self,
        http: &dyn HttpProviderBoundary,
        request: HttpRequest,
    ) -> Result<HttpStream> {
        let name = self.plugin_name();
        let stream = self
            .inner
            .engine
            .open(request, self.inner.plugin.http_options())
            .await
            .map_err(|err| err.with_plugin(name))?;
        if stream.status().is_success() {
            return Ok(stream);
        }
        let response = stream
            .into_response()
            .await
            .map_err(|err| err.with_plugin(name))?;
        Err(self.error_of(http, &response))
    }

    /// Sends a plugin-built request and returns the whole 2xx response, or the classified error.
    async fn exchange(
        &self,
        http: &dyn HttpProviderBoundary,
        request: HttpRequest,
    ) -> Result<HttpResponse> {
        self.open_ok(http, request)
            .await?
            .into_response()
            .await
            .map_err(|err| err.with_plugin(self.plugin_name()))
    }

    /// A non-2xx response as the plugin classifies it, or the host.
    fn error_of(&self, http: &dyn HttpProviderBoundary, response: &HttpResponse) -> ModelportError {
        let name = self.plugin_name();
        match unguard_value(name, "classify_error", http.classify_error(response)) {
            Ok(Some(err)) => ModelportError::from_plugin_response(name, err, response),
            Ok(None) => classify_status(response).with_plugin(name),
            Err(panicked) => panicked,
        }
    }

    /// The provider for a call that changes the config (system prompts, tool choice): this one
    /// with them merged in and validated again; this one itself if the call changes nothing.
    async fn for_call(&self, options: &CallOptions) -> Result<Provider> {
        if !options.changes_config() {
            return Ok(self.clone());
        }
        let plugin = &self.inner.plugin;
        let mut config = self.inner.config.clone();
        if !options.system.is_empty() {
            if !plugin.schema().has_property("system") {
                return Err(self.unsupported_key("system messages", "system"));
            }
            let mut prompts: Vec<Value> = match config.remove("system") {
                Some(Value::Array(items)) => items,
                Some(Value::String(text)) => vec![Value::String(text)],
                _ => Vec::new(),
            };
            prompts.extend(options.system.iter().cloned().map(Value::String));
            config.insert("system".into(), Value::Array(prompts));
        }
        if let Some(choice) = &options.tool_choice {
            if !plugin.schema().has_property("tool_choice") {
                return Err(self.unsupported_key("toolChoice", "tool_choice"));
            }
            config.insert("tool_choice".into(), choice.clone());
        }
        let config = plugin.validate(config)?;
        let backend = match &self.inner.backend {
            // A Wasm provider takes its config with every call: same instances, new config.
            Backend::Wasm(wasm) => {
                let derived = wasm.with_cfg(Value::Object(config.clone()));
                if wasm.has("from_config") {
                    derived.call_json("from_config", derived.cfg()).await?;
                }
                Backend::Wasm(derived)
            }
            _ => {
                plugin
                    .instantiate(&config, &self.inner.engine, &self.inner.shutdown)
                    .await?
            }
        };
        Ok(Self {
            inner: Arc::new(ProviderInner {
                backend,
                config,
                engine: self.inner.engine.clone(),
                shutdown: self.inner.shutdown.clone(),
                plugin: plugin.clone(),
            }),
        })
    }

    fn unsupported_key(&self, what: &str, key: &str) -> ModelportError {
        ModelportError::new(
            ErrorCode::Unsupported,
            format!("{what} need a plugin whose config has a `{key}` property"),
        )
        .with_plugin(self.plugin_name())
    }

    /// One chat turn.
    pub async fn chat(
        &self,
        messages: &[ChatMessage],
        tools: Option<&[Tool]>,
        options: &CallOptions,
    ) -> Result<ChatResponse> {
        let scope = self.scope(options);
        let provider = scope.run(self.for_call(options)).await?;
        provider
            .run(options, || provider.chat_once(messages, tools))
            .await
    }

    async fn chat_once(
        &self,
        messages: &[ChatMessage],
        tools: Option<&[Tool]>,
    ) -> Result<ChatResponse> {
        let name = self.plugin_name();
        match &self.inner.backend {
            Backend::Http(http) => {
                let request = unguard(name, "chat_request", http.chat_request(messages, tools))?;
                let response = self.exchange(http.as_ref(), request).await?;
                unguard(name, "parse_chat", http.parse_chat(response))
            }
            Backend::Async(provider) => unguard(name, "chat", provider.chat(messages, tools).await),
            Backend::Wasm(wasm) => wasm.chat(messages, tools).await,
        }
    }

    /// A streamed chat turn. Providers that cannot stream answer whole, told as the same events.
    pub async fn chat_stream(
        &self,
        messages: Vec<ChatMessage>,
        tools: Option<Vec<Tool>>,
        options: &CallOptions,
    ) -> Result<ChatStream> {
        let scope = self.scope(options);
        let provider = scope.run(self.for_call(options)).await?;
        let policy = self.retry_policy(options);
        Ok(ChatStream::spawn(
            self.plugin_name(),
            scope,
            move |sender| async move {
                provider
                    .produce_stream(&messages, tools.as_deref(), &policy, sender)
                    .await
            },
        ))
    }

    async fn produce_stream(
        &self,
        messages: &[ChatMessage],
        tools: Option<&[Tool]>,
        policy: &RetryPolicy,
        sender: ChunkSender,
    ) -> Result<()> {
        let name = self.plugin_name();
        let whole = || async {
            let response = policy.run(|| self.chat_once(messages, tools)).await?;
            sender.send(events_of(response)).await
        };
        match &self.inner.backend {
            Backend::Http(http) => {
                if !unguard_value(name, "supports_streaming", http.supports_streaming())? {
                    return whole().await;
                }
                self.stream_http(http.as_ref(), messages, tools, policy, sender)
                    .await
            }
            Backend::Async(_) => whole().await,
            Backend::Wasm(wasm) => {
                if wasm.streams().await? {
                    wasm.chat_stream(messages, tools, policy, sender).await
                } else {
                    whole().await
                }
            }
        }
    }

    /// A native HTTP plugin's stream: the host opens the response (retried until it opens) and
    /// feeds its body, line by line, to the plugin's stream parser.
    async fn stream_http(
        &self,
        http: &dyn HttpProviderBoundary,
        messages: &[ChatMessage],
        tools: Option<&[Tool]>,
        policy: &RetryPolicy,
        sender: ChunkSender,
    ) -> Result<()> {
        let name = self.plugin_name();
        let mut body = policy
            .run(|| async {
                let request = unguard(
                    name,
                    "chat_stream_request",
                    http.chat_stream_request(messages, tools),
                )?;
                self.open_ok(http, request).await
            })
            .await?;
        let mut parser = unguard(name, "chat_stream_parser", http.chat_stream_parser())?;
        let mut parse = |lines: Vec<Vec<u8>>| -> Result<Vec<StreamChunk>> {
            let mut events = Vec::new();
            for line in lines {
                events.extend(unguard(name, "parse_chunk", parser.parse_chunk(&line))?);
            }
            Ok(events)
        };
        let mut lines = LineSplitter::default();
        while let Some(chunk) = body.next_chunk().await.map_err(|e| e.with_plugin(name))? {
            sender.send(parse(lines.push(&chunk))?).await?;
        }
        sender.send(parse(lines.finish())?).await?;
        sender.send(unguard(name, "finish", parser.finish())?).await
    }

    /// One vector per input.
    pub async fn embed(&self, inputs: &[String], options: &CallOptions) -> Result<Vec<Vec<f32>>> {
        let name = self.plugin_name();
        let vectors = self
            .run(options, || async {
                match &self.inner.backend {
                    Backend::Http(http) => {
                        let request = unguard(name, "embed_request", http.embed_request(inputs))?;
                        let response = self.exchange(http.as_ref(), request).await?;
                        unguard(name, "parse_embed", http.parse_embed(response))
                    }
                    Backend::Async(provider) => {
                        unguard(name, "embed", provider.embed(inputs).await)
                    }
                    Backend::Wasm(wasm) => wasm.embed(inputs).await,
                }
            })
            .await?;
        if vectors.len() != inputs.len() {
            return Err(ModelportError::new(
                ErrorCode::ParseError,
                format!(
                    "asked for {} embeddings, the plugin returned {}",
                    inputs.len(),
                    vectors.len()
                ),
            )
            .with_plugin(name));
        }
        Ok(vectors)
    }

    /// A text completion.
    pub async fn complete(
        &self,
        request: &CompletionRequest,
        options: &CallOptions,
    ) -> Result<CompletionResponse> {
        let name = self.plugin_name();
        self.run(options, || async {
            match &self.inner.backend {
                Backend::Http(http) => {
                    let http_request =
                        unguard(name, "complete_request", http.complete_request(request))?;
                    let response = self.exchange(http.as_ref(), http_request).await?;
                    unguard(name, "parse_complete", http.parse_complete(response))
                }
                Backend::Async(provider) => {
                    unguard(name, "complete", provider.complete(request).await)
                }
                Backend::Wasm(wasm) => wasm.complete(request).await,
            }
        })
        .await
    }

    /// Transcribes audio (speech-to-text); `UNSUPPORTED` for a provider without it.
    pub async fn transcribe(
        &self,
        request: &SttRequest,
        options: &CallOptions,
    ) -> Result<SttResponse> {
        let name = self.plugin_name();
        self.run(options, || async {
            match &self.inner.backend {
                Backend::Http(http) => {
                    let http_request = unguard(name, "stt_request", http.stt_request(request))?;
                    let response = self.exchange(http.as_ref(), http_request).await?;
                    unguard(name, "parse_stt", http.parse_stt(response))
                }
                Backend::Async(provider) => {
                    unguard(name, "transcribe", provider.transcribe(request).await)
                }
                Backend::Wasm(wasm) => wasm.transcribe(request).await,
            }
        })
        .await
    }

    /// Speaks text (text-to-speech); `UNSUPPORTED` for a provider without it.
    pub async fn speech(&self, request: &TtsRequest, options: &CallOptions) -> Result<TtsResponse> {
        let name = self.plugin_name();
        self.run(options, || async {
            match &self.inner.backend {
                Backend::Http(http) => {
                    let http_request = unguard(name, "tts_request", http.tts_request(request))?;
                    let response = self.exchange(http.as_ref(), http_request).await?;
                    unguard(name, "parse_tts", http.parse_tts(response))
                }
                Backend::Async(provider) => unguard(name, "speech", provider.speech(request).await),
                Backend::Wasm(wasm) => wasm.speech(request).await,
            }
        })
        .await
    }

    /// The models available under this provider's config.
    pub async fn list_models(&self, options: &CallOptions) -> Result<Vec<String>> {
        self.run(options, || async {
            match &self.inner.backend {
                Backend::Wasm(wasm) => wasm.list_models().await,
                _ => {
                    self.inner
                        .plugin
                        .list_models(&self.inner.engine, &self.inner.config, &self.inner.shutdown)
                        .await
                }
            }
        })
        .await
    }
}
