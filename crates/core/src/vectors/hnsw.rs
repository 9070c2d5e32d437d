//! One repo's search index: an HNSW graph (usearch) over unit-length vectors, inner product as the
//! metric — so a match's score is its cosine similarity — and exact scans where a filter leaves
//! few candidates (a graph walk would mostly meet items the filter drops).
use std::collections::HashSet;

use tokio_util::sync::CancellationToken;
use usearch::{Index, IndexOptions, MetricKind, ScalarKind};

use super::config::SqliteVectorConfig;
use crate::error::{ErrorCode, ModelportError, Result};

/// Filters matching at most this many items are answered by an exact scan.
const EXACT_SCAN_MAX: usize = 4096;
/// Items added between two looks at the cancellation token.
const CANCEL_CHECK_EVERY: usize = 256;

fn index_error(what: &str, err: impl std::fmt::Display) -> ModelportError {
    ModelportError::new(
        ErrorCode::ProviderError,
        format!("vector index: {what}: {err}"),
    )
}

/// `vector` scaled to length 1 (checked non-zero before).
pub(super) fn unit(vector: &[f32]) -> Vec<f32> {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    vector.iter().map(|x| x / norm).collect()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub(super) struct HnswIndex {
    index: Index,
    dims: usize,
    ef_search: usize,
}

impl HnswIndex {
    pub fn new(dims: usize, config: &SqliteVectorConfig) -> Result<Self> {
        let options = IndexOptions {
            dimensions: dims,
            metric: MetricKind::IP,
            quantization: ScalarKind::F32,
            connectivity: config.connectivity,
            expansion_add: config.ef_construction,
            expansion_search: config.ef_search,
            multi: false,
        };
        let index = Index::new(&options).map_err(|err| index_error("create", err))?;
        Ok(Self {
            index,
            dims,
            ef_search: config.ef_search,
        })
    }

    /// An index read back from [`Self::save`]'s bytes.
    pub fn load(dims: usize, config: &SqliteVectorConfig, bytes: &[u8]) -> Result<Self> {
        let this = Self::new(dims, config)?;
        this.index
            .load_from_buffer(bytes)
            .map_err(|err| index_error("load", err))?;
        if this.index.dimensions() != dims {
            return Err(index_error(
                "load",
                format!("{} dimensions saved", this.index.dimensions()),
            ));
        }
        // Loading restores the saved search setting; the config's wins.
        this.index.change_expansion_search(config.ef_search);
        Ok(this)
    }

    pub fn save(&self) -> Result<Vec<u8>> {
        let mut bytes = vec![0u8; self.index.serialized_length()];
        self.index
            .save_to_buffer(&mut bytes)
            .map_err(|err| index_error("save", err))?;
        Ok(bytes)
    }

    pub fn len(&self) -> usize {
        self.index.size()
    }

    pub fn remove(&self, key: u64) -> Result<()> {
        self.index
            .remove(key)
            .map_err(|err| index_error("remove", err))?;
        Ok(())
    }

    /// Adds unit-length `(key, vector)`s on every core; stops early (an error) when `cancel`
    /// fires, leaving some added: the caller then drops this index.
    pub fn add_all(&self, entries: &[(u64, Vec<f32>)], cancel: &CancellationToken) -> Result<()> {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8);
        let needed = self.index.size() + entries.len();
        if needed > self.index.capacity() {
            let capacity = needed.max(self.index.capacity() * 2).max(1024);
            self.index
                .reserve_capacity_and_threads(capacity, threads)
                .map_err(|err| index_error("reserve", err))?;
        }
        let chunk = entries.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let workers: Vec<_> = entries
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || -> Result<()> {
                        for (at, (key, vector)) in part.iter().enumerate() {
                            if at % CANCEL_CHECK_EVERY == 0 && cancel.is_cancelled() {
                                return Err(ModelportError::aborted("the upsert was aborted"));
                            }
                            self.index
                                .add(*key, vector)
                                .map_err(|err| index_error("add", err))?;
                        }
                        Ok(())
                    })
                })
                .collect();
            workers.into_iter().try_for_each(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|_| Err(index_error("add", "a worker panicked")))
            })
        })
    }

    /// The `k` closest keys to the unit-length `query` with their scores (best first); only
    /// keys in `allowed` when it is given.
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        allowed: Option<&HashSet<u64>>,
    ) -> Result<Vec<(u64, f32)>> {
        let k = k.min(self.len());
        if k == 0 {
            return Ok(Vec::new());
        }
        let Some(allowed) = allowed else {
            self.index.change_expansion_search(self.ef_search.max(k));
            let found = self
                .index
                .search(query, k)
                .map_err(|err| index_error("search", err))?;
            return Ok(scored(found.keys, found.distances));
        };
        let wanted = k.min(allowed.len());
        if allowed.len() <= EXACT_SCAN_MAX.max(self.len() / 10) {
            return self.exact(query, k, allowed);
        }
        // The walk meets allowed items at their share of the repo: look that much wider.
        let widen = (self.len() / allowed.len()).clamp(1, 10);
        self.index
            .change_expansion_search((self.ef_search * widen).max(k));
        let found = self
            .index
            .filtered_search(query, k, |key| allowed.contains(&key))
            .map_err(|err| index_error("search", err))?;
        if found.keys.len() < wanted {
            return self.exact(query, k, allowed);
        }
        Ok(scored(found.keys, found.distances))
    }

    /// Every allowed key scored against `query`: exact.
    fn exact(&self, query: &[f32], k: usize, allowed: &HashSet<u64>) -> Result<Vec<(u64, f32)>> {
        let mut vector = vec![0f32; self.dims];
        let mut best: Vec<(u64, f32)> = Vec::with_capacity(allowed.len());
        for &key in allowed {
            if self
                .index
                .get(key, &mut vector)
                .map_err(|err| index_error("get", err))?
                == 0
            {
                continue;
            }
            best.push((key, dot(query, &vector)));
        }
        best.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        best.truncate(k);
        Ok(best)
    }
}

fn scored(keys: Vec<u64>, distances: Vec<f32>) -> Vec<(u64, f32)> {
    // Inner-product distance is 1 - dot: the score is the dot, the cosine of unit vectors.
    keys.into_iter()
        .zip(distances)
        .map(|(key, distance)| (key, 1.0 - distance))
        .collect()
}
