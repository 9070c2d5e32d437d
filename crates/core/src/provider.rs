//! `Provider`: a configured provider, the same object whatever transport runs it.
use std::future::Future;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use lru::LruCache;
use modelport_plugin::{
    ChatCall, ChatMessage, ChatResponse, CompletionRequest, CompletionResponse, SttRequest,
    SttResponse, Tool, TtsRequest, TtsResponse,
};
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::backend::{Backend, Calls};
use crate::call::{CallOptions, CallScope};
use crate::call_params::{self, CallParams};
use crate::error::{ErrorCode, ModelportError, Result};
use crate::host_http;
use crate::http::HttpEngine;
use crate::plugin::LoadedPlugin;
use crate::retry::RetryPolicy;
use crate::stream::{ChatStream, ChunkSender};

/// A provider built from a plugin and a config. Cheap to clone; keeps its plugin loaded.
#[derive(Clone)]
pub struct Provider {
    inner: Arc<ProviderInner>,
}

/// Most providers derived for calls' own settings that one provider keeps.
const DERIVED_PROVIDERS: usize = 16;

/// Field order matters: the backend (plugin code) drops before the plugin that holds the library.
struct ProviderInner {
    /// Providers for calls' own settings, by their config's JSON text.
    derived: Mutex<LruCache<String, Provider>>,
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
        let backend = Backend::new(&plugin, &config, &engine, &shutdown).await?;
        Ok(Self::assemble(backend, config, engine, shutdown, plugin))
    }

    fn assemble(
        backend: Backend,
        config: Map<String, Value>,
        engine: HttpEngine,
        shutdown: CancellationToken,
        plugin: Arc<LoadedPlugin>,
    ) -> Self {
        let capacity = NonZeroUsize::new(DERIVED_PROVIDERS).expect("not zero");
        Self {
            inner: Arc::new(ProviderInner {
                derived: Mutex::new(LruCache::new(capacity)),
                backend,
                config,
                engine,
                shutdown,
                plugin,
            }),
        }
    }

    /// Whether its calls are best polled on the caller's thread: a TypeScript plugin's code
    /// runs there, and a Wasm plugin's calls run on their instances' own threads, so every
    /// wait of such a call can be woken straight on the caller's thread, with no thread of the
    /// async runtime in between.
    pub fn polls_on_caller(&self) -> bool {
        matches!(self.inner.backend, Backend::External(_) | Backend::Wasm(_))
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

    /// The provider for a call with settings of its own, and the settings it still takes with
    /// the call: this one and all of them for a plugin whose protocol takes them per call (the
    /// native ABI); otherwise this one with them laid over its config (checked against the
    /// plugin's schema), built once per distinct config and kept in a bounded cache.
    async fn for_call<'a>(&self, options: &'a CallOptions) -> Result<(Provider, &'a CallParams)> {
        static NONE: std::sync::LazyLock<CallParams> =
            std::sync::LazyLock::new(CallParams::default);
        if options.params.is_empty() || self.inner.backend.takes_call_params() {
            return Ok((self.clone(), &options.params));
        }
        let plugin = &self.inner.plugin;
        let config = call_params::overlay(
            &options.params,
            self.inner.config.clone(),
            plugin.schema(),
            self.plugin_name(),
        )?;
        // serde_json's maps are ordered by key: the text is the same for the same config. A
        // config found in the cache was validated when it went in.
        let key = Value::Object(config.clone()).to_string();
        if let Some(derived) = self.derived().get(&key) {
            return Ok((derived.clone(), &NONE));
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
            _ => Backend::new(plugin, &config, &self.inner.engine, &self.inner.shutdown).await?,
        };
        let derived = Self::assemble(
            backend,
            config,
            self.inner.engine.clone(),
            self.inner.shutdown.clone(),
            plugin.clone(),
        );
        self.derived().put(key, derived.clone());
        Ok((derived, &NONE))
    }

    /// `UNSUPPORTED` for an operation a TypeScript provider plugin does not have.
    fn unsupported(&self, what: &str) -> ModelportError {
        ModelportError::new(
            ErrorCode::Unsupported,
            format!("a TypeScript provider plugin does not offer {what} (seed 004's interface has generate and stream)"),
        )
        .with_plugin(self.plugin_name())
    }

    fn derived(&self) -> std::sync::MutexGuard<'_, LruCache<String, Provider>> {
        self.inner.derived.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One chat turn.
    pub async fn chat(
        &self,
        messages: &[ChatMessage],
        tools: Option<&[Tool]>,
        options: &CallOptions,
    ) -> Result<ChatResponse> {
        // One scope: the time spent deriving the provider counts against the call's timeout.
        let policy = self.retry_policy(options);
        self.scope(options)
            .run(async {
                let (provider, params) = self.for_call(options).await?;
                policy
                    .run(|| provider.chat_once(messages, tools, params))
                    .await
            })
            .await
    }

    async fn chat_once(
        &self,
        messages: &[ChatMessage],
        tools: Option<&[Tool]>,
        params: &CallParams,
    ) -> Result<ChatResponse> {
        match self.inner.backend.calls() {
            Calls::HostHttp(http) => host_http::chat(http, messages, tools, params).await,
            Calls::Native(native) => {
                native
                    .chat(ChatCall {
                        messages,
                        tools,
                        params,
                    })
                    .await
            }
            Calls::WasmWhole(wasm) => wasm.chat(messages, tools).await,
            Calls::External(external) => {
                let call = ChatCall {
                    messages,
                    tools,
                    params,
                };
                external
                    .chat(call)
                    .await
                    .map_err(|err| err.with_plugin(self.plugin_name()))
            }
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
        let (provider, params) = scope.run(self.for_call(options)).await?;
        let params = params.clone();
        let policy = self.retry_policy(options);
        Ok(ChatStream::spawn(
            self.plugin_name(),
            scope,
            move |sender| async move {
                provider
                    .produce_stream(&messages, tools.as_deref(), &params, &policy, sender)
                    .await
            },
        ))
    }

    async fn produce_stream(
        &self,
        messages: &[ChatMessage],
        tools: Option<&[Tool]>,
        params: &CallParams,
        policy: &RetryPolicy,
        sender: ChunkSender,
    ) -> Result<()> {
        let whole = || async {
            let response = policy
                .run(|| self.chat_once(messages, tools, params))
                .await?;
            sender.send(response.into_events()).await
        };
        match self.inner.backend.calls() {
            Calls::HostHttp(http) if http.supports_streaming().await? => {
                host_http::chat_stream(http, messages, tools, params, policy, sender.clone()).await
            }
            calls @ (Calls::Native(_) | Calls::External(_)) => {
                // Retried only until the first event: after that the consumer has seen part of
                // an answer, and a second attempt would repeat it.
                let call = ChatCall {
                    messages,
                    tools,
                    params,
                };
                let attempt = || async {
                    match calls {
                        Calls::Native(native) => native.chat_stream(call, &sender).await,
                        Calls::External(external) => external.chat_stream(call, &sender).await,
                        _ => unreachable!("matched above"),
                    }
                };
                let streamed = policy.run_while(attempt, || !sender.delivered()).await?;
                if streamed { Ok(()) } else { whole().await }
            }
            Calls::WasmWhole(wasm) if wasm.streams().await? => {
                wasm.chat_stream(messages, tools, policy, sender.clone())
                    .await
            }
            _ => whole().await,
        }
    }

    /// One vector per input.
    pub async fn embed(&self, inputs: &[String], options: &CallOptions) -> Result<Vec<Vec<f32>>> {
        let name = self.plugin_name();
        let vectors = self
            .run(options, || async {
                match self.inner.backend.calls() {
                    Calls::HostHttp(http) => host_http::embed(http, inputs).await,
                    Calls::Native(native) => native.embed(inputs).await,
                    Calls::WasmWhole(wasm) => wasm.embed(inputs).await,
                    Calls::External(_) => Err(self.unsupported("embeddings")),
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
        self.run(options, || async {
            match self.inner.backend.calls() {
                Calls::HostHttp(http) => host_http::complete(http, request).await,
                Calls::Native(native) => native.complete(request).await,
                Calls::WasmWhole(wasm) => wasm.complete(request).await,
                Calls::External(_) => Err(self.unsupported("completions")),
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
        self.run(options, || async {
            match &self.inner.backend {
                // A Wasm plugin transcribes in one call (QueryMT's `transcribe` export).
                Backend::Wasm(wasm) => wasm.transcribe(request).await,
                Backend::Http(native) => host_http::transcribe(native, request).await,
                Backend::Async(native) => native.transcribe(request).await,
                Backend::External(_) => Err(self.unsupported("transcription")),
            }
        })
        .await
    }

    /// Speaks text (text-to-speech); `UNSUPPORTED` for a provider without it.
    pub async fn speech(&self, request: &TtsRequest, options: &CallOptions) -> Result<TtsResponse> {
        self.run(options, || async {
            match &self.inner.backend {
                // A Wasm plugin speaks in one call (QueryMT's `speech` export).
                Backend::Wasm(wasm) => wasm.speech(request).await,
                Backend::Http(native) => host_http::speech(native, request).await,
                Backend::Async(native) => native.speech(request).await,
                Backend::External(_) => Err(self.unsupported("speech")),
            }
        })
        .await
    }

    /// The models available under this provider's config.
    pub async fn list_models(&self, options: &CallOptions) -> Result<Vec<String>> {
        self.run(options, || self.inner.backend.list_models()).await
    }
}

/// What a provider can do (seed 004's `ProviderCapabilities`), derived from its protocol where it
/// has no way to say: every native and Wasm protocol carries tools; JSON mode is a config key
/// (`response_format` or QueryMT's `json_schema`) its schema takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    pub supports_streaming: bool,
    pub supports_tool_calling: bool,
    pub supports_json_mode: bool,
}

impl Provider {
    /// What it can do (see [`Capabilities`]). A TypeScript provider plugin's own
    /// `capabilities()` answers for it in the facade.
    pub async fn capabilities(&self) -> Result<Capabilities> {
        let schema = self.inner.plugin.schema();
        let supports_json_mode =
            schema.has_property("response_format") || schema.has_property("json_schema");
        let supports_streaming = match self.inner.backend.calls() {
            Calls::HostHttp(http) => http.supports_streaming().await?,
            Calls::Native(native) => native.supports_streaming()?,
            Calls::WasmWhole(wasm) => wasm.streams().await?,
            Calls::External(_) => false,
        };
        Ok(Capabilities {
            supports_streaming,
            supports_tool_calling: true,
            supports_json_mode,
        })
    }
}

/// The outcome of a provider's health check.
#[derive(Debug, Clone, PartialEq)]
pub struct Health {
    pub healthy: bool,
    pub message: String,
    /// The failure's code, when unhealthy.
    pub code: Option<ErrorCode>,
}

impl Provider {
    /// A health check derived from the protocol (native and Wasm plugins have no such export):
    /// the model list, within the call's options (its timeout and retries). A plugin that lists
    /// no models (`UNSUPPORTED`) is healthy as far as the host can tell: loaded and configured.
    pub async fn health_check(&self, options: &CallOptions) -> Health {
        match self.list_models(options).await {
            Ok(models) => Health {
                healthy: true,
                message: format!("the model list answered ({} models)", models.len()),
                code: None,
            },
            Err(err) if err.code == ErrorCode::Unsupported => Health {
                healthy: true,
                message: "loaded and configured (the plugin lists no models to check further)"
                    .into(),
                code: None,
            },
            Err(err) => Health {
                healthy: false,
                message: err.to_string(),
                code: Some(err.code),
            },
        }
    }
}
