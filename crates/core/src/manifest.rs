//! A plugin's manifest (seed 004): name, version, description, kind and the SDK versions it works
//! with — read and checked before any of the plugin's code runs, whatever its runtime.
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::ConfigSchema;
use crate::error::{ErrorCode, ModelportError, Result};

/// The plugin SDK version this modelport implements (seed 004's integer `SDK_VERSION`).
pub const SDK_VERSION: u32 = 1;

/// What a plugin is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PluginType {
    /// An LLM provider (`ProviderAdapterPlugin`).
    Provider,
    /// Text embeddings (`EmbedderPlugin`).
    Embedder,
    /// Vector memory (`VectorMemoryBackendPlugin`).
    VectorBackend,
    /// Runs commands under a policy (`ToolExecutorPlugin`).
    ToolExecutor,
}

impl PluginType {
    /// Every type, as manifests spell them.
    pub const ALL: [(&'static str, PluginType); 4] = [
        ("provider", PluginType::Provider),
        ("embedder", PluginType::Embedder),
        ("vector-backend", PluginType::VectorBackend),
        ("tool-executor", PluginType::ToolExecutor),
    ];

    /// The manifest's spelling.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, kind)| *kind == self)
            .map(|(name, _)| *name)
            .expect("every type is listed")
    }
}

/// The SDK versions a plugin works with: `minVersion` ..= `maxVersion` (open above when absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SdkVersionRange {
    pub min_version: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_version: Option<u32>,
}

impl SdkVersionRange {
    /// Whether `version` is in the range.
    pub fn contains(&self, version: u32) -> bool {
        version >= self.min_version && self.max_version.is_none_or(|max| version <= max)
    }
}

impl std::fmt::Display for SdkVersionRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.max_version {
            Some(max) if max == self.min_version => write!(f, "{max}"),
            Some(max) => write!(f, "{} to {max}", self.min_version),
            None => write!(f, "{} or newer", self.min_version),
        }
    }
}

/// A checked manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginManifest {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub kind: PluginType,
    pub sdk_version: SdkVersionRange,
    /// The JSON Schema the plugin's config must satisfy (checked before `init`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_schema: Option<Value>,
}

/// `PLUGIN_INVALID` about the manifest field at `path`.
fn invalid(path: &str, what: impl std::fmt::Display) -> ModelportError {
    ModelportError::new(
        ErrorCode::PluginInvalid,
        format!("the plugin's manifest is invalid: {path} {what}"),
    )
    .with_json_path(path)
}

fn text(fields: &Map<String, Value>, key: &str, required: bool) -> Result<Option<String>> {
    let path = format!("manifest.{key}");
    match fields.get(key) {
        None | Some(Value::Null) if required => Err(invalid(&path, "is missing")),
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.trim().is_empty() => Err(invalid(&path, "is empty")),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(other) => Err(invalid(&path, format!("must be a string, got {other}"))),
    }
}

fn version_number(range: &Map<String, Value>, key: &str, required: bool) -> Result<Option<u32>> {
    let path = format!("manifest.sdkVersion.{key}");
    match range.get(key) {
        None | Some(Value::Null) if required => Err(invalid(&path, "is missing")),
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| invalid(&path, format!("must be a whole number ≥ 0, got {value}"))),
    }
}

impl PluginManifest {
    /// Reads and checks a manifest (seed 004's `PluginManifest`, camelCase JSON): every field's
    /// type, the plugin type, and that this modelport's [`SDK_VERSION`] is in its range
    /// (`SDK_VERSION_MISMATCH` naming both otherwise). Unknown fields are allowed (a manifest may
    /// carry more than modelport reads).
    pub fn from_json(value: &Value) -> Result<PluginManifest> {
        let Value::Object(fields) = value else {
            return Err(invalid(
                "manifest",
                format!("must be an object, got {value}"),
            ));
        };
        let name = text(fields, "name", true)?.expect("required");
        let with_name = |err: ModelportError| err.with_plugin(&name);
        let kind = match fields.get("type") {
            None | Some(Value::Null) => {
                return Err(with_name(invalid("manifest.type", "is missing")));
            }
            Some(Value::String(kind)) => PluginType::ALL
                .iter()
                .find(|(spelling, _)| spelling == kind)
                .map(|(_, kind)| *kind)
                .ok_or_else(|| {
                    let known: Vec<&str> = PluginType::ALL.iter().map(|(s, _)| *s).collect();
                    with_name(invalid(
                        "manifest.type",
                        format!("is \"{kind}\", not one of {}", known.join(", ")),
                    ))
                })?,
            Some(other) => {
                return Err(with_name(invalid(
                    "manifest.type",
                    format!("must be a string, got {other}"),
                )));
            }
        };
        let range = match fields.get("sdkVersion") {
            Some(Value::Object(range)) => range,
            None | Some(Value::Null) => {
                return Err(with_name(invalid("manifest.sdkVersion", "is missing")));
            }
            Some(other) => {
                return Err(with_name(invalid(
                    "manifest.sdkVersion",
                    format!("must be {{ minVersion, maxVersion? }}, got {other}"),
                )));
            }
        };
        let sdk_version = SdkVersionRange {
            min_version: version_number(range, "minVersion", true)
                .map_err(with_name)?
                .expect("required"),
            max_version: version_number(range, "maxVersion", false).map_err(with_name)?,
        };
        if let Some(max) = sdk_version.max_version
            && max < sdk_version.min_version
        {
            return Err(with_name(invalid(
                "manifest.sdkVersion",
                format!(
                    "is empty: maxVersion {max} is below minVersion {}",
                    sdk_version.min_version
                ),
            )));
        }
        let config_schema = match fields.get("configSchema") {
            None | Some(Value::Null) => None,
            Some(schema @ Value::Object(_)) => {
                ConfigSchema::from_value(schema.clone()).map_err(|err| {
                    with_name(invalid(
                        "manifest.configSchema",
                        format!("is not a valid JSON Schema ({})", err.causes.join("; ")),
                    ))
                })?;
                Some(schema.clone())
            }
            Some(other) => {
                return Err(with_name(invalid(
                    "manifest.configSchema",
                    format!("must be a JSON Schema object, got {other}"),
                )));
            }
        };
        let manifest = PluginManifest {
            config_schema,
            version: text(fields, "version", false).map_err(with_name)?,
            description: text(fields, "description", false).map_err(with_name)?,
            name,
            kind,
            sdk_version,
        };
        manifest.check_sdk_version()?;
        Ok(manifest)
    }

    /// `CONFIG_SCHEMA_VIOLATION` (naming the plugin and the field) unless `config` satisfies the
    /// manifest's `configSchema`; any config does when there is none.
    pub fn check_config(&self, config: &Value) -> Result<()> {
        let Some(schema) = &self.config_schema else {
            return Ok(());
        };
        ConfigSchema::from_value(schema.clone())
            .and_then(|schema| schema.validate(config))
            .map_err(|err| err.with_plugin(&self.name))
    }

    /// `SDK_VERSION_MISMATCH` unless this modelport's [`SDK_VERSION`] is in the plugin's range.
    pub fn check_sdk_version(&self) -> Result<()> {
        if self.sdk_version.contains(SDK_VERSION) {
            return Ok(());
        }
        let advice = if SDK_VERSION < self.sdk_version.min_version {
            "upgrade modelport"
        } else {
            "use a newer release of the plugin"
        };
        Err(ModelportError::new(
            ErrorCode::SdkVersionMismatch,
            format!(
                "the plugin works with SDK version {}; this modelport implements SDK version \
                 {SDK_VERSION} ({advice})",
                self.sdk_version
            ),
        )
        .with_plugin(&self.name))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn manifest(sdk: Value) -> Value {
        json!({"name": "p", "type": "embedder", "version": "1.0.0", "sdkVersion": sdk})
    }

    #[test]
    fn a_good_manifest_reads_back() {
        let read = PluginManifest::from_json(&manifest(json!({"minVersion": 1}))).unwrap();
        assert_eq!(read.kind, PluginType::Embedder);
        assert_eq!(read.sdk_version.max_version, None);
        assert_eq!(
            serde_json::to_value(&read).unwrap(),
            json!({"name": "p", "version": "1.0.0", "type": "embedder", "sdkVersion": {"minVersion": 1}})
        );
    }

    #[test]
    fn ranges_that_exclude_this_sdk_are_mismatches_naming_both() {
        for range in [
            json!({"minVersion": 2}),
            json!({"minVersion": 0, "maxVersion": 0}),
        ] {
            let err = PluginManifest::from_json(&manifest(range)).unwrap_err();
            assert_eq!(err.code, ErrorCode::SdkVersionMismatch, "{err}");
            assert!(err.message.contains("implements SDK version 1"), "{err}");
        }
    }

    #[test]
    fn bad_fields_are_named_by_path() {
        let cases = [
            (json!([]), "manifest"),
            (
                json!({"type": "provider", "sdkVersion": {"minVersion": 1}}),
                "manifest.name",
            ),
            (
                json!({"name": "p", "sdkVersion": {"minVersion": 1}}),
                "manifest.type",
            ),
            (
                json!({"name": "p", "type": "robot", "sdkVersion": {"minVersion": 1}}),
                "manifest.type",
            ),
            (
                json!({"name": "p", "type": "provider"}),
                "manifest.sdkVersion",
            ),
            (
                json!({"name": "p", "type": "provider", "sdkVersion": {"minVersion": "1"}}),
                "manifest.sdkVersion.minVersion",
            ),
            (
                json!({"name": "p", "type": "provider", "sdkVersion": {"minVersion": 2, "maxVersion": 1}}),
                "manifest.sdkVersion",
            ),
            (
                json!({"name": "p", "type": "provider", "sdkVersion": {"minVersion": 1}, "version": 3}),
                "manifest.version",
            ),
            (
                json!({"name": "p", "type": "provider", "sdkVersion": {"minVersion": 1}, "configSchema": "object"}),
                "manifest.configSchema",
            ),
            (
                json!({"name": "p", "type": "provider", "sdkVersion": {"minVersion": 1}, "configSchema": {"type": 12}}),
                "manifest.configSchema",
            ),
        ];
        for (value, path) in cases {
            let err = PluginManifest::from_json(&value).unwrap_err();
            assert_eq!(err.code, ErrorCode::PluginInvalid, "{err}");
            assert_eq!(err.json_path.as_deref(), Some(path), "{err}");
        }
    }

    #[test]
    fn config_is_checked_against_the_manifest_schema() {
        let mut value = manifest(json!({"minVersion": 1}));
        value["configSchema"] = json!({
            "type": "object",
            "properties": {"dims": {"type": "integer", "minimum": 1}},
            "required": ["dims"]
        });
        let read = PluginManifest::from_json(&value).unwrap();
        read.check_config(&json!({"dims": 8})).unwrap();
        let err = read.check_config(&json!({"dims": 0})).unwrap_err();
        assert_eq!(err.code, ErrorCode::ConfigSchemaViolation);
        assert_eq!(err.json_path.as_deref(), Some("/dims"));
        assert_eq!(err.plugin.as_deref(), Some("p"));
        let without = PluginManifest::from_json(&manifest(json!({"minVersion": 1}))).unwrap();
        without.check_config(&json!({"anything": true})).unwrap();
    }
}
