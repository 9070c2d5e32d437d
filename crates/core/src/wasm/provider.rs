//! `WasmProvider`: a provider run by a QueryMT Extism plugin, v2 (the plugin builds requests and
//! parses responses; the host does HTTP) or v1 (the plugin does HTTP through host functions).
use std::sync::Arc;

use modelport_plugin::{
    ChatMessage, ChatResponse, CompletionRequest, CompletionResponse, PluginError, Tool,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::factory::cfg_only;
use super::host_functions::SharedHost;
use super::http_wire::{WireRequest, WireResponse};
use super::pool::InstancePool;
use crate::error::{ErrorCode, ModelportError, Result};
use crate::http::classify_status;

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
struct RequestOut {
    req: WireRequest,
}

#[derive(serde::Deserialize)]
struct ErrorOut {
    payload: PluginError,
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

    fn host(&self) -> &SharedHost {
        self.pool.shared()
    }

    pub(crate) fn cfg(&self) -> &Value {
        &self.cfg
    }

    fn has(&self, function: &str) -> bool {
        self.optional.iter().any(|f| f == function)
    }

    /// Calls `function` with JSON `input` on a pooled instance, off the async threads; a registry
    /// shutdown interrupts it.
    pub(crate) async fn call_json(&self, function: &str, input: &Value) -> Result<Vec<u8>> {
        let bytes = serde_json::to_vec(input)
            .map_err(|err| ModelportError::new(ErrorCode::InvalidRequest, err.to_string()))?;
        let mut lease = self.pool.lease().await?;
        let cancel = lease.cancel_handle();
        let shutdown = self.host().shutdown.clone();
        let name = function.to_string();
        let work = tokio::task::spawn_blocking(move || {
            let interrupted = shutdown.clone();
            lease.call(&name, &bytes, move || interrupted.is_cancelled())
        });
        tokio::select! {
            joined = work => joined.map_err(|err| ModelportError::new(ErrorCode::PluginError, "the plugin call's thread failed").with_cause(err))?,
            _ = self.host().shutdown.cancelled() => {
                let _ = cancel.cancel();
                Err(ModelportError::aborted("the registry was closed").with_plugin(&self.host().plugin))
            }
        }
    }

    async fn call_parsed<T: DeserializeOwned>(&self, function: &str, input: &Value) -> Result<T> {
        let output = self.call_json(function, input).await?;
        serde_json::from_slice(&output).map_err(|err| {
            ModelportError::new(
                ErrorCode::ParseError,
                format!("{function} returned unexpected JSON: {err}"),
            )
            .with_plugin(&self.host().plugin)
        })
    }

    /// v2: asks the plugin for a request, performs it, and returns the response (any status).
    async fn exchange(&self, function: &str, input: &Value) -> Result<http::Response<Vec<u8>>> {
        let out: RequestOut = self.call_parsed(function, input).await?;
        let request = out
            .req
            .into_http()
            .map_err(|e| e.with_plugin(&self.host().plugin))?;
        self.host()
            .engine
            .execute(request, &self.host().http)
            .await
            .map_err(|e| e.with_plugin(&self.host().plugin))
    }

    /// v2: a non-2xx response becomes the plugin's classification, or the host's.
    async fn check(&self, response: http::Response<Vec<u8>>) -> Result<WireResponse> {
        let wire = WireResponse::from_http(&response);
        if response.status().is_success() {
            return Ok(wire);
        }
        if self.has("classify_chat_error") {
            let input = json!({"cfg": self.cfg, "resp": wire});
            if let Ok(out) = self
                .call_parsed::<ErrorOut>("classify_chat_error", &input)
                .await
            {
                let mut err = ModelportError::from_plugin_error(&self.host().plugin, out.payload);
                err.status.get_or_insert(response.status().as_u16());
                return Err(err);
            }
        }
        Err(classify_status(&response).with_plugin(&self.host().plugin))
    }

    /// v2: `build` makes the request from `input`, the host performs it, `parse` reads the answer.
    async fn round_trip<T: DeserializeOwned>(
        &self,
        build: &str,
        input: &Value,
        parse: &str,
    ) -> Result<T> {
        let response = self.exchange(build, input).await?;
        let resp = self.check(response).await?;
        self.call_parsed(parse, &json!({"cfg": self.cfg, "resp": resp}))
            .await
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
                self.round_trip("chat_request", &input, "parse_chat_response")
                    .await
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
                self.round_trip("embed_request", &input, "parse_embed_response")
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
                self.round_trip("complete_request", &input, "parse_complete_response")
                    .await
            }
        }
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
                    .exchange("list_models_request", &cfg_only(&self.cfg))
                    .await?;
                let resp = self.check(response).await?;
                self.call_parsed("parse_list_models_response", &json!({"resp": resp}))
                    .await
            }
        }
    }
}
