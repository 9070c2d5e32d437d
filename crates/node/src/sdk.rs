//! Seed 004's plugin SDK in the binding: `SDK_VERSION` and the one manifest check (the core's),
//! for plugins of every runtime.
// Only JavaScript calls these: the test build of the binding has no caller.
#![cfg_attr(test, allow(dead_code))]
use modelport_core::config::PluginEntry;
use modelport_core::{PluginManifest, PluginType, SdkVersionRange};
use napi_derive::napi;
use serde_json::Value;

use crate::error::napi_result;

/// The plugin SDK version this modelport implements.
#[napi]
pub const SDK_VERSION: u32 = modelport_core::SDK_VERSION;

/// What a plugin is.
#[napi(string_enum = "kebab-case")]
pub enum BindingPluginType {
    Provider,
    Embedder,
    VectorBackend,
    ToolExecutor,
}

impl From<PluginType> for BindingPluginType {
    fn from(kind: PluginType) -> Self {
        match kind {
            PluginType::Provider => Self::Provider,
            PluginType::Embedder => Self::Embedder,
            PluginType::VectorBackend => Self::VectorBackend,
            PluginType::ToolExecutor => Self::ToolExecutor,
        }
    }
}

/// The SDK versions a plugin works with.
#[napi(object, object_from_js = false)]
pub struct BindingSdkVersionRange {
    pub min_version: u32,
    pub max_version: Option<u32>,
}

impl From<SdkVersionRange> for BindingSdkVersionRange {
    fn from(range: SdkVersionRange) -> Self {
        Self {
            min_version: range.min_version,
            max_version: range.max_version,
        }
    }
}

/// A checked manifest.
#[napi(object, object_from_js = false)]
pub struct BindingPluginManifest {
    pub name: String,
    pub version: Option<String>,
    pub description: Option<String>,
    #[napi(js_name = "type")]
    pub kind: BindingPluginType,
    pub sdk_version: BindingSdkVersionRange,
    /// The JSON Schema the plugin's config must satisfy.
    #[napi(ts_type = "Record<string, unknown>")]
    pub config_schema: Option<Value>,
}

/// A `[[plugins]]` entry of a registry's config.
#[napi(object, object_from_js = false)]
pub struct BindingPluginEntry {
    pub name: String,
    pub kind: BindingPluginType,
    /// Absolute.
    pub path: String,
    #[napi(ts_type = "Record<string, unknown>")]
    pub config: Value,
    pub init_timeout_ms: Option<u32>,
    pub lifecycle_timeout_ms: Option<u32>,
}

fn millis(ms: Option<u64>) -> Option<u32> {
    ms.map(|ms| u32::try_from(ms).unwrap_or(u32::MAX))
}

impl From<&PluginEntry> for BindingPluginEntry {
    fn from(entry: &PluginEntry) -> Self {
        Self {
            name: entry.name.clone(),
            kind: entry.kind.into(),
            path: entry.path.clone(),
            config: Value::Object(entry.config.clone()),
            init_timeout_ms: millis(entry.init_timeout_ms),
            lifecycle_timeout_ms: millis(entry.lifecycle_timeout_ms),
        }
    }
}

/// Reads and checks a plugin's manifest (any JSON value: it comes from plugin code, so every
/// field is checked and named by path): `PLUGIN_INVALID`, or `SDK_VERSION_MISMATCH` when the
/// plugin's range excludes `SDK_VERSION`.
#[napi]
pub fn validate_manifest(manifest: Value) -> napi::Result<BindingPluginManifest> {
    napi_result(PluginManifest::from_json(&manifest)).map(BindingPluginManifest::from)
}

impl From<PluginManifest> for BindingPluginManifest {
    fn from(manifest: PluginManifest) -> Self {
        Self {
            name: manifest.name,
            version: manifest.version,
            description: manifest.description,
            kind: manifest.kind.into(),
            sdk_version: manifest.sdk_version.into(),
            config_schema: manifest.config_schema,
        }
    }
}

/// Checks a plugin's config against its manifest's `configSchema` (before `init`):
/// `CONFIG_SCHEMA_VIOLATION` naming the plugin and the field.
#[napi]
pub fn check_plugin_config(
    #[napi(ts_arg_type = "Record<string, unknown>")] manifest: Value,
    #[napi(ts_arg_type = "Record<string, unknown>")] config: Value,
) -> napi::Result<()> {
    let manifest = napi_result(PluginManifest::from_json(&manifest))?;
    napi_result(manifest.check_config(&config))
}
