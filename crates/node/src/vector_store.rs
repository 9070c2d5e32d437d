//! `BindingVectorStore`: a vector backend of the core (the SQLite reference store) as JS sees it.
//! Every call runs on the runtime's blocking pool; abort tokens are `call_token`'s.
// Only JavaScript calls these: the test build of the binding has no caller.
#![cfg_attr(test, allow(dead_code))]
use std::sync::Arc;

use modelport_core::vectors::{
    Metadata, SqliteVectorConfig, SqliteVectorStore, VectorBackend, VectorItem, VectorQueryResult,
};
use modelport_core::{ErrorCode, ModelportError};
use napi::Env;
use napi::bindgen_prelude::Float32Array;
use napi_derive::napi;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::call_token::token;
use crate::error::napi_result;
use crate::inline_poll::{Answer, answer};
use crate::provider::BindingHealth;

/// Items to upsert, column-wise: `vectors` holds `ids.length` vectors of `dims` numbers back to
/// back; `metadata` and `contents` are empty or one per id.
#[napi(object)]
pub struct BindingVectorBatch {
    pub ids: Vec<String>,
    pub vectors: Float32Array,
    #[napi(ts_type = "Array<Record<string, string | number | boolean> | undefined | null>")]
    pub metadata: Vec<Option<Metadata>>,
    pub contents: Vec<Option<String>>,
}

/// One query answer.
#[napi(object, object_from_js = false)]
pub struct BindingVectorQueryResult {
    pub id: String,
    pub score: f64,
    #[napi(ts_type = "Record<string, string | number | boolean>")]
    pub metadata: Metadata,
    pub content: Option<String>,
}

impl From<VectorQueryResult> for BindingVectorQueryResult {
    fn from(found: VectorQueryResult) -> Self {
        Self {
            id: found.id,
            score: f64::from(found.score),
            metadata: found.metadata,
            content: found.content,
        }
    }
}

/// What a store is (seed 004's `VectorBackendInfo`).
#[napi(object, object_from_js = false)]
pub struct BindingVectorBackendInfo {
    pub backend: String,
    pub dims: u32,
    pub embedder_id: String,
    #[napi(ts_type = "'local' | 'remote'")]
    pub location: String,
    pub supports_filters: bool,
}

fn items_of(batch: BindingVectorBatch, dims: usize) -> modelport_core::Result<Vec<VectorItem>> {
    let count = batch.ids.len();
    let invalid = |message: String, path: &str| {
        ModelportError::new(ErrorCode::InvalidRequest, message).with_json_path(path)
    };
    if batch.vectors.len() != count * dims {
        return Err(invalid(
            format!(
                "{count} items need {} numbers of vectors ({dims} each); got {}",
                count * dims,
                batch.vectors.len()
            ),
            "items",
        ));
    }
    for (column, len) in [
        ("metadata", batch.metadata.len()),
        ("contents", batch.contents.len()),
    ] {
        if len != 0 && len != count {
            return Err(invalid(
                format!("{column} has {len} entries for {count} items"),
                column,
            ));
        }
    }
    let mut metadata = batch.metadata.into_iter();
    let mut contents = batch.contents.into_iter();
    Ok(batch
        .ids
        .into_iter()
        .zip(batch.vectors.chunks_exact(dims.max(1)))
        .map(|(id, vector)| VectorItem {
            id,
            vector: vector.to_vec(),
            metadata: metadata.next().flatten().unwrap_or_default(),
            content: contents.next().flatten(),
        })
        .collect())
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// `work` on the blocking pool, with the abort token numbered `call_id` (or none).
fn blocking<'env, T, F>(
    env: &'env Env,
    call_id: Option<u32>,
    work: F,
) -> napi::Result<Answer<'env, T>>
where
    T: napi::bindgen_prelude::ToNapiValue + Send + 'static,
    F: FnOnce(&CancellationToken) -> modelport_core::Result<T> + Send + 'static,
{
    let cancel = token(call_id).unwrap_or_default();
    answer(env, async move {
        let done = tokio::task::spawn_blocking(move || work(&cancel)).await;
        let value = done
            .map_err(|err| napi::Error::from_reason(format!("vector store task failed: {err}")))?;
        napi_result(value)
    })
}

/// A vector store.
#[napi]
pub struct BindingVectorStore {
    inner: Arc<dyn VectorBackend>,
}

impl BindingVectorStore {
    pub fn new(inner: Arc<dyn VectorBackend>) -> Self {
        Self { inner }
    }
}

#[napi]
impl BindingVectorStore {
    /// Opens the SQLite reference store (`config` is the plugin config; `plugin` names it).
    #[napi(factory)]
    pub fn open_sqlite(
        plugin: String,
        #[napi(ts_arg_type = "Record<string, unknown>")] config: Value,
    ) -> napi::Result<BindingVectorStore> {
        let config = napi_result(SqliteVectorConfig::from_json(&plugin, config))?;
        let store = napi_result(SqliteVectorStore::open(&plugin, config))?;
        Ok(Self {
            inner: Arc::new(store),
        })
    }

    #[napi]
    pub fn upsert<'env>(
        &self,
        env: &'env Env,
        repo: String,
        batch: BindingVectorBatch,
        call_id: Option<u32>,
    ) -> napi::Result<Answer<'env, ()>> {
        let items = napi_result(items_of(batch, self.inner.info().dims))?;
        let store = self.inner.clone();
        blocking(env, call_id, move |cancel| {
            store.upsert(&repo, items, cancel)
        })
    }

    #[napi]
    pub fn query<'env>(
        &self,
        env: &'env Env,
        repo: String,
        vector: Float32Array,
        top_k: u32,
        #[napi(ts_arg_type = "Record<string, string | number | boolean> | undefined | null")]
        filter: Option<Metadata>,
        call_id: Option<u32>,
    ) -> napi::Result<Answer<'env, Vec<BindingVectorQueryResult>>> {
        let vector = vector.to_vec();
        let store = self.inner.clone();
        blocking(env, call_id, move |cancel| {
            let found = store.query(&repo, &vector, top_k as usize, filter.as_ref(), cancel)?;
            Ok(found
                .into_iter()
                .map(BindingVectorQueryResult::from)
                .collect())
        })
    }

    /// How many of `ids` were there.
    #[napi]
    pub fn delete_by_ids<'env>(
        &self,
        env: &'env Env,
        repo: String,
        ids: Vec<String>,
        call_id: Option<u32>,
    ) -> napi::Result<Answer<'env, u32>> {
        let store = self.inner.clone();
        blocking(env, call_id, move |cancel| {
            store.delete_by_ids(&repo, &ids, cancel).map(count)
        })
    }

    /// How many items the repo held.
    #[napi]
    pub fn wipe_repo<'env>(&self, env: &'env Env, repo: String) -> napi::Result<Answer<'env, u32>> {
        let store = self.inner.clone();
        blocking(env, None, move |_| store.wipe_repo(&repo).map(count))
    }

    #[napi]
    pub fn info(&self) -> BindingVectorBackendInfo {
        let info = self.inner.info();
        BindingVectorBackendInfo {
            backend: info.backend,
            dims: u32::try_from(info.dims).unwrap_or(u32::MAX),
            embedder_id: info.embedder_id,
            location: info.location,
            supports_filters: info.supports_filters,
        }
    }

    #[napi]
    pub fn health_check<'env>(&self, env: &'env Env) -> napi::Result<Answer<'env, BindingHealth>> {
        let store = self.inner.clone();
        blocking(env, None, move |_| {
            let health = store.health();
            Ok(BindingHealth {
                healthy: health.healthy,
                message: health.message,
                code: health.code.map(|code| code.as_str()),
            })
        })
    }

    /// Closes the store (the SQLite store first saves what the next open can reuse).
    #[napi]
    pub fn shutdown<'env>(&self, env: &'env Env) -> napi::Result<Answer<'env, ()>> {
        let store = self.inner.clone();
        blocking(env, None, move |_| store.close())
    }
}
