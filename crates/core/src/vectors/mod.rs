//! Vector memory (seed 004's `VectorMemoryBackendPlugin`): the items and answers every vector
//! backend speaks, and the reference backend modelport ships — SQLite for the data, an HNSW index
//! (usearch) per repo for the search ([`SqliteVectorStore`]).
mod config;
mod hnsw;
mod postings;
mod sqlite_store;

pub use config::SqliteVectorConfig;
pub use sqlite_store::SqliteVectorStore;

use serde_json::{Map, Value};

use tokio_util::sync::CancellationToken;

use crate::error::{ErrorCode, ModelportError, Result};
use crate::provider::Health;

/// Metadata of an item: names to strings, numbers or booleans.
pub type Metadata = Map<String, Value>;

// The items and answers are the SDK's types (seed 004's, camelCase JSON): one type whether a
// backend is the shipped store, a native plugin or a Wasm one.
pub use modelport_plugin::sdk_plugin::{VectorBackendInfo, VectorItem, VectorQueryResult};

/// A vector memory backend (seed 004's `VectorMemoryBackendPlugin`), whatever runs it. Calls
/// block: run them off the event loop. `cancel` stops a call between steps (all or nothing).
pub trait VectorBackend: Send + Sync {
    /// Stores `items` in `repo`; an id already there is replaced.
    fn upsert(&self, repo: &str, items: Vec<VectorItem>, cancel: &CancellationToken) -> Result<()>;
    /// The `top_k` items closest to `vector`, best first; only those whose metadata equals every
    /// value of `filter` when one is given.
    fn query(
        &self,
        repo: &str,
        vector: &[f32],
        top_k: usize,
        filter: Option<&Metadata>,
        cancel: &CancellationToken,
    ) -> Result<Vec<VectorQueryResult>>;
    /// Deletes these ids of `repo`; how many were there.
    fn delete_by_ids(
        &self,
        repo: &str,
        ids: &[String],
        cancel: &CancellationToken,
    ) -> Result<usize>;
    /// Deletes all of `repo`; how many items were there.
    fn wipe_repo(&self, repo: &str) -> Result<usize>;
    fn info(&self) -> VectorBackendInfo;
    fn health(&self) -> Health;
    /// Releases the backend (later calls fail with `ABORTED`); closing twice is fine.
    fn close(&self) -> Result<()>;
}

fn invalid(message: String) -> ModelportError {
    ModelportError::new(ErrorCode::InvalidRequest, message)
}

/// A repo id: not empty.
pub(crate) fn check_repo(repo: &str) -> Result<()> {
    if repo.is_empty() {
        return Err(invalid("the repo id is empty".into()).with_json_path("repoId"));
    }
    Ok(())
}

/// A vector of `dims` finite numbers (`what` names it in the error).
pub(crate) fn check_vector(vector: &[f32], dims: usize, what: &str) -> Result<()> {
    if vector.len() != dims {
        return Err(invalid(format!(
            "{what} has {} dimensions; this store holds {dims}",
            vector.len()
        ))
        .with_json_path(what));
    }
    if let Some(at) = vector.iter().position(|x| !x.is_finite()) {
        return Err(invalid(format!("{what}[{at}] is not a finite number")).with_json_path(what));
    }
    if vector.iter().all(|x| *x == 0.0) {
        return Err(invalid(format!(
            "{what} is all zeros (it has no direction to compare)"
        ))
        .with_json_path(what));
    }
    Ok(())
}

/// Metadata values are strings, finite numbers or booleans (`what` names the object).
pub(crate) fn check_metadata(metadata: &Metadata, what: &str) -> Result<()> {
    for (name, value) in metadata {
        let scalar = match value {
            Value::String(_) | Value::Bool(_) => true,
            Value::Number(n) => n.as_f64().is_some_and(f64::is_finite),
            _ => false,
        };
        if !scalar {
            return Err(invalid(format!(
                "{what}.{name} must be a string, a number or a boolean, got {value}"
            ))
            .with_json_path(format!("{what}.{name}")));
        }
    }
    Ok(())
}

/// Checks a batch for `upsert`; of items repeating an id, the last one wins.
pub(crate) fn checked_batch(items: Vec<VectorItem>, dims: usize) -> Result<Vec<VectorItem>> {
    let mut last = std::collections::HashMap::with_capacity(items.len());
    for (at, item) in items.iter().enumerate() {
        if item.id.is_empty() {
            return Err(invalid(format!("items[{at}].id is empty"))
                .with_json_path(format!("items[{at}].id")));
        }
        check_vector(&item.vector, dims, &format!("items[{at}].vector"))?;
        check_metadata(&item.metadata, &format!("items[{at}].metadata"))?;
        last.insert(item.id.as_str(), at);
    }
    if last.len() == items.len() {
        return Ok(items);
    }
    let keep: std::collections::HashSet<usize> = last.into_values().collect();
    Ok(items
        .into_iter()
        .enumerate()
        .filter(|(at, _)| keep.contains(at))
        .map(|(_, item)| item)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, vector: Vec<f32>) -> VectorItem {
        VectorItem {
            id: id.into(),
            vector,
            metadata: Metadata::new(),
            content: None,
        }
    }

    #[test]
    fn a_batch_names_the_item_at_fault() {
        let err =
            checked_batch(vec![item("a", vec![1.0, 0.0]), item("b", vec![1.0])], 2).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        assert_eq!(err.json_path.as_deref(), Some("items[1].vector"));
        let err = checked_batch(vec![item("a", vec![f32::NAN, 0.0])], 2).unwrap_err();
        assert!(
            err.message.contains("items[0].vector[0]"),
            "{}",
            err.message
        );
    }

    #[test]
    fn the_last_item_of_an_id_wins() {
        let batch = checked_batch(
            vec![
                item("a", vec![1.0, 0.0]),
                item("b", vec![0.0, 1.0]),
                item("a", vec![0.5, 0.5]),
            ],
            2,
        )
        .unwrap();
        assert_eq!(batch.len(), 2);
        assert_eq!(batch[1].vector, vec![0.5, 0.5]);
    }

    #[test]
    fn metadata_holds_scalars_only() {
        let mut metadata = Metadata::new();
        metadata.insert("tags".into(), serde_json::json!(["x"]));
        let err = check_metadata(&metadata, "items[0].metadata").unwrap_err();
        assert_eq!(err.json_path.as_deref(), Some("items[0].metadata.tags"));
    }
}
