//! `Provider`: a configured provider, the same object whatever transport runs it.
use std::future::Future;
use std::sync::Arc;

use modelport_plugin::boundary::{HttpProviderBoundary, ProviderBoundary};
use modelport_plugin::{
    ChatMessage, ChatResponse, CompletionRequest, CompletionResponse, HttpRequest, HttpResponse,
    Tool,
};
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::error::{ErrorCode, ModelportError, Result};
use crate::http::{HttpEngine, classify_status};
use crate::native::{unguard, unguard_value};
use crate::plugin::LoadedPlugin;
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

    /// Runs `work` unless the registry closes first.
    async fn run<T>(&self, work: impl Future<Output = Result<T>>) -> Result<T> {
        if self.inner.shutdown.is_cancelled() {
            return Err(
                ModelportError::aborted("the registry was closed").with_plugin(self.plugin_name())
            );
        }
        tokio::select! {
            biased;
            _ = self.inner.shutdown.cancelled() => {
                Err(ModelportError::aborted("the registry was closed").with_plugin(self.plugin_name()))
            }
            result = work => result,
        }
    }

    /// Sends a plugin-built request and returns a 2xx response, or the classified error.
    async fn exchange(
        &self,
        http: &dyn HttpProviderBoundary,
        request: HttpRequest,
    ) -> Result<HttpResponse> {
        let name = self.plugin_name();
        let response = self
            .inner
            .engine
            .execute(request, self.inner.plugin.http_options())
            .await
            .map_err(|err| err.with_plugin(name))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status().as_u16();
        match unguard_value(name, "classify_error", http.classify_error(&response))? {
            Some(err) => {
                let mut err = ModelportError::from_plugin_error(name, err);
                err.status.get_or_insert(status);
                Err(err)
            }
            None => Err(classify_status(&response).with_plugin(name)),
        }
    }

    /// A provider like this one with `extra` system prompts appended to its config's `system`.
    async fn with_system(&self, extra: &[String]) -> Result<Provider> {
        let plugin = &self.inner.plugin;
        if !plugin.schema().has_property("system") {
            return Err(ModelportError::new(
                ErrorCode::Unsupported,
                "system messages need a plugin whose config has a `system` property",
            )
            .with_plugin(self.plugin_name()));
        }
        let mut config = self.inner.config.clone();
        let mut prompts: Vec<Value> = match config.remove("system") {
            Some(Value::Array(items)) => items,
            Some(Value::String(text)) => vec![Value::String(text)],
            _ => Vec::new(),
        };
        prompts.extend(extra.iter().cloned().map(Value::String));
        config.insert("system".into(), Value::Array(prompts));
        let config = plugin.validate(config)?;
        Provider::new(
            plugin.clone(),
            config,
            self.inner.engine.clone(),
            self.inner.shutdown.clone(),
        )
        .await
    }

    /// One chat turn. `system` holds system prompts given as messages for this call only.
    pub async fn chat(
        &self,
        messages: &[ChatMessage],
        system: &[String],
        tools: Option<&[Tool]>,
    ) -> Result<ChatResponse> {
        if !system.is_empty() {
            return Box::pin(self.with_system(system).await?.chat(messages, &[], tools)).await;
        }
        let name = self.plugin_name();
        self.run(async {
            match &self.inner.backend {
                Backend::Http(http) => {
                    let request =
                        unguard(name, "chat_request", http.chat_request(messages, tools))?;
                    let response = self.exchange(http.as_ref(), request).await?;
                    unguard(name, "parse_chat", http.parse_chat(response))
                }
                Backend::Async(provider) => {
                    unguard(name, "chat", provider.chat(messages, tools).await)
                }
                Backend::Wasm(wasm) => wasm.chat(messages, tools).await,
            }
        })
        .await
    }

    /// One vector per input.
    pub async fn embed(&self, inputs: &[String]) -> Result<Vec<Vec<f32>>> {
        let name = self.plugin_name();
        let vectors = self
            .run(async {
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
    pub async fn complete(&self, request: &CompletionRequest) -> Result<CompletionResponse> {
        let name = self.plugin_name();
        self.run(async {
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
}
