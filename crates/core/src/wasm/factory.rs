//! `WasmFactory`: a QueryMT Extism plugin loaded and read (name, schema, generation), ready to
//! make providers.
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

use super::compiled::CompiledWasm;
use super::host_functions::{SharedHost, init_logging, instance_functions};
use super::module_cache::ModuleCache;
use super::options::{Sandbox, WasmOptions};
use super::pool::InstancePool;
use super::provider::{Generation, WasmProvider};
use crate::error::{ErrorCode, ModelportError, Result};
use crate::http::{AllowList, HttpEngine, HttpOptions};

/// Default number of instances per provider.
pub const DEFAULT_MAX_INSTANCES: usize = 4;

/// A Wasm provider entry's host-side settings (the keys beside `config`): its sandbox, the
/// environment variables it may read, and how many instances it may run.
#[derive(Debug, Clone, PartialEq)]
pub struct WasmSandbox {
    /// What each instance may do and use.
    pub sandbox: Sandbox,
    /// Environment variables copied into the plugin's Extism config (besides its API key variable).
    pub env: Vec<String>,
    /// Instances per provider.
    pub max_instances: usize,
}

impl Default for WasmSandbox {
    fn default() -> Self {
        Self {
            sandbox: Sandbox::default(),
            env: Vec::new(),
            max_instances: DEFAULT_MAX_INSTANCES,
        }
    }
}

/// A loaded QueryMT Extism plugin.
pub struct WasmFactory {
    compiled: Arc<CompiledWasm>,
    generation: Generation,
    plugin: String,
    provider_name: String,
    base_url: Option<String>,
    api_key_name: Option<String>,
    schema: String,
    optional: Vec<String>,
    sandbox: WasmSandbox,
}

/// The exports that make a plugin v2 (the host performs its HTTP).
const V2_EXPORTS: [&str; 5] = [
    "chat_request",
    "chat_stream_request",
    "parse_chat_response",
    "list_models_request",
    "parse_list_models_response",
];
/// Exports whose presence changes what the host does.
const OPTIONAL_EXPORTS: [&str; 9] = [
    "list_models_static",
    "classify_chat_error",
    "from_config",
    "embed_request",
    "chat_stream_parser_start",
    "chat_stream",
    "supports_streaming",
    "transcribe",
    "speech",
];

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).trim().to_string()
}

impl WasmFactory {
    /// Reads, compiles (through the cache) and inspects the plugin at `path`. The plugin's Extism
    /// config gets only the `sandbox.env` variables. Blocking; call from a thread of the async
    /// runtime's blocking pool.
    pub fn load(
        plugin: &str,
        path: &Path,
        sandbox: WasmSandbox,
        cache: ModuleCache,
        engine: &HttpEngine,
    ) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|err| {
            ModelportError::new(ErrorCode::PluginLoadFailed, "cannot read the Wasm file")
                .with_path(path)
                .with_plugin(plugin)
                .with_cause(err)
        })?;
        let locate = |err: ModelportError| err.with_plugin(plugin).with_path(path);
        // Load-time calls (name, schema…) may not reach the network at all.
        let shared = || {
            Arc::new(SharedHost {
                plugin: plugin.to_string(),
                engine: engine.clone(),
                http: HttpOptions {
                    allowed: Some(AllowList::default()),
                    ..HttpOptions::default()
                },
                runtime: tokio::runtime::Handle::current(),
                shutdown: CancellationToken::new(),
                timeout: sandbox.sandbox.timeout,
                max_input_bytes: sandbox.sandbox.max_input_bytes(),
            })
        };
        let env = sandbox
            .env
            .iter()
            .filter_map(|name| std::env::var(name).ok().map(|v| (name.clone(), v)))
            .collect::<BTreeMap<_, _>>();
        let (functions, _host) = instance_functions(shared());
        let options = WasmOptions {
            config: env,
            // The entry's hosts are the host functions' to enforce, per provider config
            // (`allow_list`); Extism's own HTTP is not compiled in.
            sandbox: Sandbox {
                allowed_hosts: Vec::new(),
                ..sandbox.sandbox.clone()
            },
            ..WasmOptions::default()
        };
        let (compiled, mut first) =
            CompiledWasm::compile(bytes, &options, functions, cache.clone(), Some(path))
                .map_err(locate)?;
        let exports = |f: &str| first.function_exists(f);
        let generation = if V2_EXPORTS.iter().all(|f| exports(f)) {
            Generation::V2
        } else if exports("chat") && exports("list_models") {
            Generation::V1
        } else {
            return Err(locate(ModelportError::new(
                ErrorCode::PluginLoadFailed,
                "not a QueryMT provider plugin: it exports neither the v2 set (chat_request, parse_chat_response, …) nor the v1 set (chat, list_models)",
            )));
        };
        let optional: Vec<String> = OPTIONAL_EXPORTS
            .iter()
            .filter(|f| exports(f))
            .map(|f| f.to_string())
            .collect();
        let mut read = |function: &str| -> Result<Option<String>> {
            if !first.function_exists(function) {
                return Ok(None);
            }
            first
                .call::<&[u8], &[u8]>(function, b"")
                .map(|out| Some(text(out.to_vec())))
                .map_err(|err| super::call_error::call_error(err, function, false))
        };
        let provider_name = read("name")
            .map_err(locate)?
            .unwrap_or_else(|| plugin.to_string());
        let base_url = read("base_url").map_err(locate)?.filter(|u| !u.is_empty());
        let api_key_name = read("api_key_name")
            .map_err(locate)?
            .filter(|n| !n.is_empty());
        let schema = read("config_schema")
            .map_err(locate)?
            .unwrap_or_else(|| "{}".into());
        init_logging(&mut first).map_err(locate)?;
        drop(first);

        Ok(Self {
            compiled: Arc::new(compiled),
            generation,
            plugin: plugin.to_string(),
            provider_name,
            base_url,
            api_key_name,
            schema,
            optional,
            sandbox,
        })
    }

    /// The provider name the plugin reports.
    pub fn provider_name(&self) -> &str {
        &self.provider_name
    }

    /// The environment variable the plugin says its API key is in (the host reads it only if the
    /// entry names it: `api_key_env`).
    pub fn api_key_name(&self) -> Option<&str> {
        self.api_key_name.as_deref()
    }

    /// Its config JSON Schema, as text.
    pub fn schema_text(&self) -> &str {
        &self.schema
    }

    /// `v1` or `v2`.
    pub fn generation(&self) -> Generation {
        self.generation
    }

    /// Whether compiling it was served from the disk cache.
    pub fn compiled_from_cache(&self) -> bool {
        self.compiled.compiled_from_cache()
    }

    /// Where a provider with `config` may send requests: the entry's `allowed_hosts`, plus the
    /// scheme, host and port of the configured `base_url`. Without one, the plugin's own
    /// `base_url` is added only if it is an `https://` URL of a public DNS name, and then only
    /// at public addresses: the plugin never chooses to reach a private or loopback address.
    fn allow_list(&self, config: &Map<String, Value>) -> AllowList {
        let mut list = AllowList::new(&self.sandbox.sandbox.allowed_hosts);
        match config.get("base_url").and_then(Value::as_str) {
            Some(base_url) => list = list.with_base_url(base_url),
            None => {
                if let Some(own) = &self.base_url
                    && !list.add_public_base_url(own)
                {
                    log::warn!(
                        "[{}] the plugin's own base_url {own} is not an https URL of a public host name: it is not reachable unless the entry sets base_url or allowed_hosts",
                        self.plugin
                    );
                }
            }
        }
        list
    }

    /// A provider for a validated `config`: its own instance pool and network allow-list; the
    /// plugin's `from_config` must accept the config.
    pub async fn provider(
        self: &Arc<Self>,
        config: Map<String, Value>,
        engine: HttpEngine,
        mut http: HttpOptions,
        shutdown: CancellationToken,
    ) -> Result<WasmProvider> {
        http.allowed = Some(self.allow_list(&config));
        let shared = Arc::new(SharedHost {
            plugin: self.plugin.clone(),
            engine,
            http,
            runtime: tokio::runtime::Handle::current(),
            shutdown,
            timeout: self.sandbox.sandbox.timeout,
            max_input_bytes: self.sandbox.sandbox.max_input_bytes(),
        });
        let pool = InstancePool::new(self.compiled.clone(), shared, self.sandbox.max_instances);
        let provider = WasmProvider::new(
            self.generation,
            Value::Object(config),
            pool,
            self.optional.clone(),
        );
        if self.optional.iter().any(|f| f == "from_config") {
            provider.call_json("from_config", provider.cfg()).await?;
        }
        Ok(provider)
    }
}

/// `{"cfg": …}` for calls that take only the config.
pub(crate) fn cfg_only(cfg: &Value) -> Value {
    json!({ "cfg": cfg })
}
