//! A plugin's config schema, compiled once, checked before any `from_config` call.
use serde_json::Value;

use crate::error::{ErrorCode, ModelportError, Result};

/// A plugin's JSON Schema and its compiled validator.
pub struct ConfigSchema {
    schema: Value,
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for ConfigSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigSchema")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

/// Keys whose values never appear in error messages.
fn is_secret(json_path: &str) -> bool {
    let lower = json_path.to_ascii_lowercase();
    ["key", "secret", "token", "password"]
        .iter()
        .any(|word| lower.contains(word))
}

/// The values under secret-looking keys anywhere in `value`, as they would print (an error
/// message that shows `value` would show them).
fn secret_values(value: &Value, secret: bool, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                secret_values(value, secret || is_secret(key), out);
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| secret_values(item, secret, out)),
        Value::String(text) if secret && !text.is_empty() => out.push(text.clone()),
        Value::Number(number) if secret => out.push(number.to_string()),
        _ => {}
    }
}

impl ConfigSchema {
    /// Parses and compiles the schema text a plugin returned.
    pub fn compile(text: &str) -> Result<Self> {
        let schema: Value = serde_json::from_str(text).map_err(|err| {
            ModelportError::new(
                ErrorCode::PluginLoadFailed,
                "the plugin's config_schema is not JSON",
            )
            .with_cause(err)
        })?;
        Self::from_value(schema)
    }

    /// Compiles a schema given as JSON.
    pub fn from_value(schema: Value) -> Result<Self> {
        let validator = jsonschema::validator_for(&schema).map_err(|err| {
            ModelportError::new(
                ErrorCode::PluginLoadFailed,
                "the plugin's config_schema is not a valid JSON Schema",
            )
            .with_cause(err)
        })?;
        Ok(Self { schema, validator })
    }

    /// The schema as JSON.
    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// Whether the schema declares `property` at its top level.
    pub fn has_property(&self, property: &str) -> bool {
        self.schema
            .get("properties")
            .and_then(|p| p.get(property))
            .is_some()
    }

    /// Checks `config`; the error names the JSON path of the first violation and counts the rest.
    /// Values of secret-looking keys (`api_key`, tokens…) are never echoed.
    pub fn validate(&self, config: &Value) -> Result<()> {
        let errors: Vec<_> = self.validator.iter_errors(config).collect();
        let Some(first) = errors.first() else {
            return Ok(());
        };
        let json_path = first.instance_path().to_string();
        let shown_path = if json_path.is_empty() {
            "/".to_string()
        } else {
            json_path.clone()
        };
        let detail = if is_secret(&json_path) {
            "the value violates the schema (value hidden)".to_string()
        } else {
            // A violation of a whole object (`not`, `oneOf`, `maxProperties`…) prints the object:
            // its secret values are masked.
            let mut secrets = Vec::new();
            secret_values(first.instance(), false, &mut secrets);
            secrets.iter().fold(first.to_string(), |message, secret| {
                message.replace(secret.as_str(), "***")
            })
        };
        let more = match errors.len() {
            1 => String::new(),
            n => format!(
                " (and {} more violation{})",
                n - 1,
                if n == 2 { "" } else { "s" }
            ),
        };
        let mut err = ModelportError::new(
            ErrorCode::ConfigSchemaViolation,
            format!("config at {shown_path}: {detail}{more}"),
        );
        err.json_path = Some(shown_path);
        Err(err)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SCHEMA: &str = r#"{"type":"object","properties":{"api_key":{"type":"string"},
        "temperature":{"type":"number","maximum":2},"model":{"type":"string"}},
        "required":["model"],"additionalProperties":false}"#;

    #[test]
    fn valid_config_passes() {
        ConfigSchema::compile(SCHEMA)
            .unwrap()
            .validate(&json!({"model": "m", "temperature": 1}))
            .unwrap();
    }

    #[test]
    fn violation_names_the_json_path() {
        let err = ConfigSchema::compile(SCHEMA)
            .unwrap()
            .validate(&json!({"model": "m", "temperature": 9}))
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::ConfigSchemaViolation);
        assert_eq!(err.json_path.as_deref(), Some("/temperature"));
    }

    #[test]
    fn secrets_are_not_echoed() {
        let err = ConfigSchema::compile(SCHEMA)
            .unwrap()
            .validate(&json!({"model": "m", "api_key": 12345}))
            .unwrap_err();
        assert_eq!(err.json_path.as_deref(), Some("/api_key"));
        assert!(!err.message.contains("12345"), "{}", err.message);
    }

    #[test]
    fn secrets_inside_a_violating_object_are_masked() {
        let schema = ConfigSchema::compile(r#"{"type":"object","maxProperties":1}"#).unwrap();
        let err = schema
            .validate(&json!({"model": "m", "auth": {"api_key": "sk-live-123"}}))
            .unwrap_err();
        assert!(!err.message.contains("sk-live-123"), "{}", err.message);
        assert!(err.message.contains("***"), "{}", err.message);
    }

    #[test]
    fn missing_required_and_unknown_keys_are_violations() {
        let schema = ConfigSchema::compile(SCHEMA).unwrap();
        assert_eq!(
            schema
                .validate(&json!({}))
                .unwrap_err()
                .json_path
                .as_deref(),
            Some("/")
        );
        let err = schema
            .validate(&json!({"model": "m", "temprature": 1}))
            .unwrap_err();
        assert!(err.message.contains("temprature"), "{}", err.message);
    }

    #[test]
    fn a_broken_schema_is_a_load_failure() {
        assert_eq!(
            ConfigSchema::compile("{not json").unwrap_err().code,
            ErrorCode::PluginLoadFailed
        );
        assert_eq!(
            ConfigSchema::compile(r#"{"type": 12}"#).unwrap_err().code,
            ErrorCode::PluginLoadFailed
        );
    }
}
