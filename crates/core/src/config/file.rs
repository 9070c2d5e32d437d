//! Reading `plugins.toml` / `.json` / `.yaml` / `.yml` into a [`RegistryConfig`].
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{ErrorCode, ModelportError, Result};
use crate::http::HttpOptions;
use crate::manifest::PluginType;
use crate::retry::RetryPolicy;

/// The whole config file: `providers[]` plus an optional `oci` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryConfig {
    /// The provider plugins, in load order.
    #[serde(default)]
    pub providers: Vec<ProviderEntry>,
    /// Seed 004's plugins (providers, embedders, vector backends, tool executors), in load order.
    #[serde(default)]
    pub plugins: Vec<PluginEntry>,
    /// OCI distribution settings (accepted; OCI loading is not supported yet).
    #[serde(default)]
    pub oci: Option<Value>,
    /// Where compiled Wasm modules are cached (default `$MODELPORT_CACHE_DIR`, else the user
    /// cache folder); relative to the config file.
    #[serde(default)]
    pub cache_dir: Option<String>,
}

/// One seed-004 plugin: `{name, kind, path, config}`. Its manifest's `type` must be `kind`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginEntry {
    /// Unique name in the registry (providers' names included).
    pub name: String,
    /// What the plugin is: `provider`, `embedder`, `vector-backend` or `tool-executor`.
    pub kind: PluginType,
    /// The plugin module (relative paths resolve against the config file's folder), or
    /// `modelport:<name>` for a plugin modelport ships (`modelport:local-embedder`).
    pub path: String,
    /// What the plugin's `init` receives.
    #[serde(default)]
    pub config: Map<String, Value>,
    /// Bound of `init`, in ms (default 30000).
    #[serde(default)]
    pub init_timeout_ms: Option<u64>,
    /// Bound of each `healthCheck` and of `shutdown`, in ms (default 10000).
    #[serde(default)]
    pub lifecycle_timeout_ms: Option<u64>,
}

/// One provider plugin: `{name, path, config}` plus host-side settings for it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderEntry {
    /// Unique name the application uses for this provider.
    pub name: String,
    /// The plugin file (relative paths resolve against the config file's folder).
    pub path: String,
    /// Static config handed to the plugin (merged with the API key and builder fields).
    #[serde(default)]
    pub config: Map<String, Value>,
    /// The environment variable whose value becomes the config's `api_key` when neither this
    /// entry's `config` nor the builder sets one. Default: the variable a native plugin names
    /// (`api_key_name`); none for a Wasm plugin, which never chooses what it is given. `""`: none.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// Connect timeout of this provider's HTTP requests, in milliseconds.
    #[serde(default)]
    pub connect_timeout_ms: Option<u64>,
    /// Whole-request timeout of this provider's HTTP requests, in milliseconds.
    #[serde(default)]
    pub request_timeout_ms: Option<u64>,
    /// Largest HTTP response body accepted, in bytes.
    #[serde(default, alias = "max_http_response_bytes")]
    pub max_response_bytes: Option<u64>,
    /// Retries of a failed call (408/429/5xx, connection failures): default 2, 0 = none.
    #[serde(default)]
    pub max_retries: Option<u32>,
    /// Backoff before the first retry, in ms (default 500; doubled per retry, with jitter).
    #[serde(default)]
    pub retry_base_delay_ms: Option<u64>,
    /// Longest backoff wait, in ms (default 8000).
    #[serde(default)]
    pub retry_max_delay_ms: Option<u64>,
    /// Wasm only: hosts reachable besides the host of the configured `base_url` (empty: none).
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Wasm only: environment variables copied into the plugin's Extism config.
    #[serde(default)]
    pub env: Vec<String>,
    /// Wasm only: longest one plugin call may run, in ms (default 30000; 0 = no limit).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Wasm only: memory cap in 64 KiB pages (default 1024 = 64 MiB).
    #[serde(default)]
    pub max_memory_pages: Option<u32>,
    /// Wasm only: instances per provider (default 4).
    #[serde(default)]
    pub max_instances: Option<usize>,
    /// Wasm only: give the plugin WASI (default false).
    #[serde(default)]
    pub wasi: bool,
    /// Wasm only (with WASI): host folder → guest path; `ro:` prefix for read-only.
    #[serde(default)]
    pub allowed_paths: std::collections::BTreeMap<String, String>,
}

/// Where a plugin comes from, decided by its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginLocation {
    /// A native shared library on disk.
    Native(PathBuf),
    /// A Wasm module on disk.
    Wasm(PathBuf),
    /// A remote reference (`oci://`, `https://`), not supported yet.
    Remote(String),
}

impl ProviderEntry {
    /// Resolves the entry's path against `base_dir`. A native path without an extension gets the
    /// platform's shared-library extension if the bare path does not exist (`plugins/openai` →
    /// `plugins/openai.so` on Linux), so one config works on every platform.
    pub fn location(&self, base_dir: &Path) -> PluginLocation {
        let raw = self.path.as_str();
        if raw.starts_with("oci://") || raw.starts_with("https://") || raw.starts_with("http://") {
            return PluginLocation::Remote(raw.to_string());
        }
        let path = base_dir.join(raw);
        if path.extension().is_some_and(|ext| ext == "wasm") {
            return PluginLocation::Wasm(path);
        }
        if !path.exists() && path.extension().is_none() {
            let with_ext = path.with_extension(std::env::consts::DLL_EXTENSION);
            if with_ext.exists() {
                return PluginLocation::Native(with_ext);
            }
        }
        PluginLocation::Native(path)
    }

    /// The Wasm sandbox for this provider, defaults filled in.
    pub fn wasm_sandbox(&self, base_dir: &Path) -> crate::wasm::WasmSandbox {
        let defaults = crate::wasm::WasmSandbox::default();
        let sandbox = crate::wasm::Sandbox {
            allowed_hosts: self.allowed_hosts.clone(),
            allowed_paths: self
                .allowed_paths
                .iter()
                .map(|(host, guest)| {
                    let (prefix, folder) = host
                        .strip_prefix("ro:")
                        .map_or(("", host.as_str()), |rest| ("ro:", rest));
                    (
                        format!("{prefix}{}", base_dir.join(folder).display()),
                        PathBuf::from(guest),
                    )
                })
                .collect(),
            timeout: crate::wasm::Sandbox::timeout_from_ms(self.timeout_ms),
            max_pages: self.max_memory_pages.unwrap_or(defaults.sandbox.max_pages),
            wasi: self.wasi,
        };
        crate::wasm::WasmSandbox {
            sandbox,
            env: self.env.clone(),
            max_instances: self.max_instances.unwrap_or(defaults.max_instances),
        }
    }

    /// The Wasm-only keys this entry sets (an error on a native plugin, which no sandbox holds).
    pub fn wasm_only_keys(&self) -> Vec<&'static str> {
        let mut keys = Vec::new();
        if !self.allowed_hosts.is_empty() {
            keys.push("allowed_hosts")
        }
        if !self.env.is_empty() {
            keys.push("env")
        }
        if self.timeout_ms.is_some() {
            keys.push("timeout_ms")
        }
        if self.max_memory_pages.is_some() {
            keys.push("max_memory_pages")
        }
        if self.max_instances.is_some() {
            keys.push("max_instances")
        }
        if self.wasi {
            keys.push("wasi")
        }
        if !self.allowed_paths.is_empty() {
            keys.push("allowed_paths")
        }
        keys
    }

    /// How calls of this provider are retried, defaults filled in.
    pub fn retry_policy(&self) -> RetryPolicy {
        let defaults = RetryPolicy::default();
        RetryPolicy {
            max_retries: self.max_retries.unwrap_or(defaults.max_retries),
            base_delay: self
                .retry_base_delay_ms
                .map(Duration::from_millis)
                .unwrap_or(defaults.base_delay),
            max_delay: self
                .retry_max_delay_ms
                .map(Duration::from_millis)
                .unwrap_or(defaults.max_delay),
        }
    }

    /// The HTTP settings for this provider, defaults filled in.
    pub fn http_options(&self) -> HttpOptions {
        let defaults = HttpOptions::default();
        HttpOptions {
            connect_timeout: self
                .connect_timeout_ms
                .map(Duration::from_millis)
                .unwrap_or(defaults.connect_timeout),
            request_timeout: self
                .request_timeout_ms
                .map(Duration::from_millis)
                .or(defaults.request_timeout),
            max_response_bytes: self
                .max_response_bytes
                .unwrap_or(defaults.max_response_bytes),
            allowed: None,
        }
    }
}

/// The formats a config file can be in, by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Toml,
    Json,
    Yaml,
}

impl RegistryConfig {
    /// Reads and checks a config file; the format follows the extension.
    pub fn from_file(path: &Path) -> Result<Self> {
        let format = match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("toml") => Format::Toml,
            Some("json") => Format::Json,
            Some("yaml" | "yml") => Format::Yaml,
            other => {
                return Err(ModelportError::new(
                    ErrorCode::ConfigInvalid,
                    format!(
                        "unknown config format {:?}: use .toml, .json, .yaml or .yml",
                        other.unwrap_or("(no extension)")
                    ),
                )
                .with_path(path));
            }
        };
        let text = std::fs::read_to_string(path).map_err(|err| {
            ModelportError::new(ErrorCode::ConfigInvalid, "cannot read the config file")
                .with_path(path)
                .with_cause(err)
        })?;
        Self::parse(&text, format).map_err(|err| err.with_path(path))
    }

    fn parse(text: &str, format: Format) -> Result<Self> {
        let config: Self = match format {
            Format::Toml => toml::from_str(text).map_err(|err| {
                let (line, column) = err.span().map(|span| line_column(text, span.start)).unzip();
                syntax_error(err.message(), line, column)
            })?,
            Format::Json => serde_json::from_str(text).map_err(|err| {
                syntax_error(&err.to_string(), Some(err.line()), Some(err.column()))
            })?,
            Format::Yaml => serde_yaml_ng::from_str(text).map_err(|err| {
                let location = err.location();
                syntax_error(
                    &err.to_string(),
                    location.as_ref().map(|l| l.line()),
                    location.map(|l| l.column()),
                )
            })?,
        };
        config.check()?;
        Ok(config)
    }

    /// Parses the JSON form (as `PluginRegistry.fromConfig` receives it) and checks it.
    pub fn from_value(value: Value) -> Result<Self> {
        let config: Self = serde_json::from_value(value).map_err(|err| {
            ModelportError::new(ErrorCode::ConfigInvalid, without_values(&err.to_string()))
        })?;
        config.check()?;
        Ok(config)
    }

    /// Names must be present and unique (providers and plugins together), paths present.
    fn check(&self) -> Result<()> {
        let mut seen = HashSet::new();
        for (index, entry) in self.providers.iter().enumerate() {
            check_entry("providers", index, &entry.name, &entry.path, &mut seen)?;
            if let Some(bad) = entry
                .allowed_hosts
                .iter()
                .find(|destination| !crate::http::AllowList::is_destination(destination))
            {
                return Err(ModelportError::new(
                    ErrorCode::ConfigInvalid,
                    format!(
                        "providers[{index}].allowed_hosts: {bad:?} is not a destination (a host, *.domain, host:port or http(s)://host[:port])"
                    ),
                )
                .with_plugin(&entry.name));
            }
        }
        for (index, entry) in self.plugins.iter().enumerate() {
            check_entry("plugins", index, &entry.name, &entry.path, &mut seen)?;
        }
        Ok(())
    }
}

/// An entry of `list` (`providers` or `plugins`) at `index`: a name, unique so far, and a path.
fn check_entry<'a>(
    list: &str,
    index: usize,
    name: &'a str,
    path: &str,
    seen: &mut HashSet<&'a str>,
) -> Result<()> {
    let invalid = |what: String| ModelportError::new(ErrorCode::ConfigInvalid, what);
    if name.trim().is_empty() {
        return Err(invalid(format!("{list}[{index}].name is empty")));
    }
    if path.trim().is_empty() {
        return Err(invalid(format!("{list}[{index}].path is empty")).with_plugin(name));
    }
    if !seen.insert(name) {
        return Err(invalid(format!(
            "the name '{name}' is used twice (again at {list}[{index}])"
        ))
        .with_plugin(name));
    }
    Ok(())
}

/// A parser's message without the values it quotes (`invalid type: string "sk-…"`): a config
/// line may hold a secret. Names (quoted with backticks) and positions stay.
fn without_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quoted = false;
    let mut chars = message.chars();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            // An escaped character inside a value (`\"` included) is part of the value.
            ('\\', true) => {
                chars.next();
            }
            ('"', false) => {
                quoted = true;
                out.push_str("\"…");
            }
            ('"', true) => {
                quoted = false;
                out.push('"');
            }
            (_, true) => {}
            (c, false) => out.push(c),
        }
    }
    out
}

fn syntax_error(message: &str, line: Option<usize>, column: Option<usize>) -> ModelportError {
    let mut err = ModelportError::new(ErrorCode::ConfigInvalid, without_values(message.trim()));
    err.line = line;
    err.column = column;
    err
}

/// 1-based line and column of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOML: &str = r#"
[[providers]]
name = "openai"
path = "plugins/openai"
request_timeout_ms = 5000
[providers.config]
model = "gpt-4o-mini"
temperature = 0.2
"#;

    #[test]
    fn the_three_formats_read_the_same() {
        let toml = RegistryConfig::parse(TOML, Format::Toml).unwrap();
        let json = RegistryConfig::parse(
            r#"{"providers":[{"name":"openai","path":"plugins/openai","request_timeout_ms":5000,
                "config":{"model":"gpt-4o-mini","temperature":0.2}}]}"#,
            Format::Json,
        )
        .unwrap();
        let yaml = RegistryConfig::parse(
            "providers:\n  - name: openai\n    path: plugins/openai\n    request_timeout_ms: 5000\n    config:\n      model: gpt-4o-mini\n      temperature: 0.2\n",
            Format::Yaml,
        )
        .unwrap();
        for config in [&toml, &json, &yaml] {
            assert_eq!(config.providers.len(), 1);
            assert_eq!(config.providers[0].name, "openai");
            assert_eq!(config.providers[0].config["model"], "gpt-4o-mini");
            assert_eq!(config.providers[0].config["temperature"], 0.2);
            assert_eq!(
                config.providers[0].http_options().request_timeout,
                Some(Duration::from_millis(5000))
            );
        }
    }

    #[test]
    fn values_never_appear_in_parse_errors() {
        let toml = "[[providers]]\nname = \"p\"\npath = \"x.so\"\nmax_retries = \"sk-live-123\"\n";
        let json = r#"{"providers":[{"name":"p","path":"x.so","max_retries":"sk-live-123"}]}"#;
        let yaml = "providers:\n  - name: p\n    path: x.so\n    max_retries: sk-live-123\n";
        for (text, format) in [
            (toml, Format::Toml),
            (json, Format::Json),
            (yaml, Format::Yaml),
        ] {
            let err = RegistryConfig::parse(text, format).unwrap_err();
            assert!(
                !err.to_string().contains("sk-live-123"),
                "{format:?}: {err}"
            );
            assert!(err.line.is_some(), "{format:?}: {err}");
        }
        let value = serde_json::from_str(json).unwrap();
        let err = RegistryConfig::from_value(value).unwrap_err();
        assert!(!err.to_string().contains("sk-live-123"), "{err}");
        // A quote inside the value does not end the hiding early.
        let quoted = r#"{"providers":[{"name":"p","path":"x.so","max_retries":"sk-\"live-456"}]}"#;
        let err = RegistryConfig::parse(quoted, Format::Json).unwrap_err();
        assert!(!err.to_string().contains("live-456"), "{err}");
    }

    #[test]
    fn plugin_entries_sit_beside_providers_with_kinds_and_unique_names() {
        let text = "[[providers]]\nname = \"openai\"\npath = \"openai.so\"\n\n[[plugins]]\nname = \"notes\"\nkind = \"vector-backend\"\npath = \"memory.mjs\"\n[plugins.config]\ndims = 4\n";
        let config = RegistryConfig::parse(text, Format::Toml).unwrap();
        assert_eq!(config.plugins.len(), 1);
        assert_eq!(config.plugins[0].kind, PluginType::VectorBackend);
        assert_eq!(config.plugins[0].config["dims"], 4);

        let unknown = text.replace("vector-backend", "robot");
        let err = RegistryConfig::parse(&unknown, Format::Toml).unwrap_err();
        assert_eq!(err.code, ErrorCode::ConfigInvalid);
        assert_eq!(err.line, Some(7), "{err}");
        assert!(err.message.contains("tool-executor"), "{err}");

        let clash = text.replace("\"notes\"", "\"openai\"");
        let err = RegistryConfig::parse(&clash, Format::Toml).unwrap_err();
        assert!(
            err.message.contains("used twice (again at plugins[0])"),
            "{err}"
        );
    }

    #[test]
    fn toml_syntax_errors_carry_line_and_column() {
        let err = RegistryConfig::parse("[[providers]]\nname = \"a\"\npath = \n", Format::Toml)
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::ConfigInvalid);
        assert_eq!(err.line, Some(3));
        assert!(err.column.is_some());
    }

    #[test]
    fn json_and_yaml_syntax_errors_carry_line_and_column() {
        let err = RegistryConfig::parse("{\n  \"providers\": [,]\n}", Format::Json).unwrap_err();
        assert_eq!((err.line, err.column), (Some(2), Some(17)));
        let err = RegistryConfig::parse("providers:\n  - name: a\n   path: [\n", Format::Yaml)
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::ConfigInvalid);
        assert!(err.line.is_some());
    }

    #[test]
    fn duplicate_names_and_unknown_keys_are_refused() {
        let dup = "[[providers]]\nname='a'\npath='x'\n[[providers]]\nname='a'\npath='y'\n";
        let err = RegistryConfig::parse(dup, Format::Toml).unwrap_err();
        assert!(err.message.contains("used twice"), "{err}");
        let typo = "[[providers]]\nname='a'\npath='x'\nconfgi={}\n";
        let err = RegistryConfig::parse(typo, Format::Toml).unwrap_err();
        assert!(err.message.contains("confgi"), "{err}");
        assert_eq!(err.line, Some(4));
    }

    #[test]
    fn locations_by_path() {
        let entry = |path: &str| -> ProviderEntry {
            serde_json::from_value(serde_json::json!({"name": "p", "path": path})).unwrap()
        };
        let base = Path::new("/cfg");
        assert_eq!(
            entry("oci://ghcr.io/x:1").location(base),
            PluginLocation::Remote("oci://ghcr.io/x:1".into())
        );
        assert_eq!(
            entry("a/b.wasm").location(base),
            PluginLocation::Wasm("/cfg/a/b.wasm".into())
        );
        assert_eq!(
            entry("/abs/lib.so").location(base),
            PluginLocation::Native("/abs/lib.so".into())
        );
    }
}
