//! The SQLite vector store's config (the plugin config of `modelport:sqlite-vectors`).
use std::path::PathBuf;

use serde::Deserialize;
use serde_json::Value;

use crate::error::{ErrorCode, ModelportError, Result};

/// How a [`super::SqliteVectorStore`] is opened.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SqliteVectorConfig {
    /// The database file (created if missing), or `:memory:` for a store that lives as long as
    /// the process.
    pub path: PathBuf,
    /// Dimensions of every vector. Required for a new database; an existing one knows its own
    /// and refuses a different value.
    #[serde(default)]
    pub dims: Option<usize>,
    /// Which embedder made the vectors (told by `info()`; a store opened with another one is
    /// refused, since its vectors would not be comparable).
    #[serde(default)]
    pub embedder_id: Option<String>,
    /// Candidates the HNSW search keeps (higher: better recall, slower queries).
    #[serde(default = "default_ef_search")]
    pub ef_search: usize,
    /// Candidates kept while inserting (higher: better graph, slower upserts).
    #[serde(default = "default_ef_construction")]
    pub ef_construction: usize,
    /// Links per node of the graph.
    #[serde(default = "default_connectivity")]
    pub connectivity: usize,
}

fn default_ef_search() -> usize {
    128
}

fn default_ef_construction() -> usize {
    64
}

fn default_connectivity() -> usize {
    16
}

impl SqliteVectorConfig {
    /// Reads and checks a plugin config; errors name the field.
    pub fn from_json(plugin: &str, config: Value) -> Result<Self> {
        let violation = |message: String, field: &str| {
            ModelportError::new(ErrorCode::ConfigSchemaViolation, message)
                .with_plugin(plugin)
                .with_json_path(format!("config.{field}"))
        };
        let parsed: Self = serde_json::from_value(config).map_err(|err| {
            let text = err.to_string();
            let field = text
                .split('`')
                .nth(1)
                .filter(|_| text.contains("field"))
                .unwrap_or("")
                .to_string();
            violation(format!("config: {text}"), &field)
        })?;
        if parsed.path.as_os_str().is_empty() {
            return Err(violation("config.path is empty".into(), "path"));
        }
        for (value, field, range) in [
            (parsed.dims.unwrap_or(1), "dims", 1..=65_536),
            (parsed.ef_search, "efSearch", 1..=65_536),
            (parsed.ef_construction, "efConstruction", 1..=65_536),
            (parsed.connectivity, "connectivity", 2..=256),
        ] {
            if !range.contains(&value) {
                return Err(violation(
                    format!(
                        "config.{field} must be within {}..={}, got {value}",
                        range.start(),
                        range.end()
                    ),
                    field,
                ));
            }
        }
        Ok(parsed)
    }

    /// Whether the store lives in memory only.
    pub fn in_memory(&self) -> bool {
        self.path.as_os_str() == ":memory:"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_default_and_are_checked_by_name() {
        let config =
            SqliteVectorConfig::from_json("v", json!({ "path": "a.db", "dims": 3 })).unwrap();
        assert_eq!((config.ef_search, config.connectivity), (128, 16));
        let err =
            SqliteVectorConfig::from_json("v", json!({ "path": "a.db", "dims": 0 })).unwrap_err();
        assert_eq!(err.json_path.as_deref(), Some("config.dims"));
        let err =
            SqliteVectorConfig::from_json("v", json!({ "path": "a.db", "dim": 3 })).unwrap_err();
        assert_eq!(err.code, ErrorCode::ConfigSchemaViolation);
        assert!(err.message.contains("dim"), "{}", err.message);
        let err = SqliteVectorConfig::from_json("v", json!({ "dims": 3 })).unwrap_err();
        assert_eq!(err.json_path.as_deref(), Some("config.path"));
    }
}
