//! The reference vector store: every item in SQLite (the truth, shared by every process opening
//! the file), an HNSW index per repo in memory (a cache of the truth, saved into the database on
//! `close` and trusted on the next open only if no write came after it).
//!
//! Each repo has a generation, raised by every write in the write's own transaction; an index
//! remembers the generation it reflects. Before each operation the repo's generation is read: a
//! write by another process (or a write here that failed half-way) makes it differ, and the index
//! is loaded again from the rows.
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use tokio_util::sync::CancellationToken;

use super::config::SqliteVectorConfig;
use super::hnsw::{HnswIndex, unit};
use super::postings::Postings;
use super::{
    Metadata, VectorBackend, VectorBackendInfo, VectorItem, VectorQueryResult, check_metadata,
    check_repo, check_vector, checked_batch,
};
use crate::error::{ErrorCode, ModelportError, Result};
use crate::provider::Health;

/// The layout this code reads and writes (`store_settings.format`).
const FORMAT: &str = "1";
/// Most results one query may ask for.
const TOP_K_MAX: usize = 10_000;
/// Items written between two looks at the cancellation token.
const CANCEL_CHECK_EVERY: usize = 1024;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS store_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS repos (repo TEXT PRIMARY KEY, generation INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS items (
  key INTEGER PRIMARY KEY AUTOINCREMENT,
  repo TEXT NOT NULL,
  id TEXT NOT NULL,
  vector BLOB NOT NULL,
  metadata TEXT NOT NULL,
  content TEXT,
  UNIQUE (repo, id)
);
CREATE TABLE IF NOT EXISTS index_snapshots (
  repo TEXT PRIMARY KEY,
  generation INTEGER NOT NULL,
  data BLOB NOT NULL
);
";

/// A repo's index and the generation it reflects.
struct Repo {
    index: HnswIndex,
    postings: Postings,
    generation: i64,
    /// Whether the database holds a snapshot of this index.
    saved: bool,
}

struct Open {
    db: Connection,
    repos: HashMap<String, Repo>,
}

/// A vector store on SQLite with an HNSW index per repo. Thread-safe; operations run one at a
/// time and block (call them off the event loop).
pub struct SqliteVectorStore {
    plugin: String,
    config: SqliteVectorConfig,
    dims: usize,
    embedder_id: String,
    open: Mutex<Option<Open>>,
}

fn vector_bytes(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn vector_of(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

fn metadata_of(text: &str) -> Metadata {
    serde_json::from_str(text).unwrap_or_default()
}

impl SqliteVectorStore {
    /// Opens (or creates) the store `config` names; `plugin` names it in errors.
    pub fn open(plugin: &str, config: SqliteVectorConfig) -> Result<Self> {
        let fail = |err: rusqlite::Error| {
            ModelportError::new(
                ErrorCode::StorageError,
                format!("cannot open the vector store: {err}"),
            )
            .with_plugin(plugin)
            .with_path(&config.path)
        };
        if !config.in_memory()
            && let Some(parent) = config.path.parent().filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(|err| {
                ModelportError::new(
                    ErrorCode::StorageError,
                    format!("cannot create the store's folder: {err}"),
                )
                .with_plugin(plugin)
                .with_path(parent)
            })?;
        }
        let db = Connection::open(&config.path).map_err(fail)?;
        db.busy_timeout(Duration::from_secs(30)).map_err(fail)?;
        if !config.in_memory() {
            db.pragma_update(None, "journal_mode", "WAL")
                .map_err(fail)?;
        }
        db.pragma_update(None, "synchronous", "NORMAL")
            .map_err(fail)?;
        db.execute_batch(SCHEMA).map_err(fail)?;
        let (dims, embedder_id) = Self::settle_settings(plugin, &config, &db)
            .map_err(|err| err.with_path(&config.path))?;
        Ok(Self {
            plugin: plugin.to_string(),
            config,
            dims,
            embedder_id,
            open: Mutex::new(Some(Open {
                db,
                repos: HashMap::new(),
            })),
        })
    }

    /// The database's dims and embedder, written on first open, compared with the config after.
    fn settle_settings(
        plugin: &str,
        config: &SqliteVectorConfig,
        db: &Connection,
    ) -> Result<(usize, String)> {
        let storage = |err: rusqlite::Error| storage_error(plugin, err);
        let tx = db.unchecked_transaction().map_err(storage)?;
        let setting = |name: &str| -> Result<Option<String>> {
            tx.query_row(
                "SELECT value FROM store_settings WHERE name = ?",
                [name],
                |row| row.get(0),
            )
            .optional()
            .map_err(storage)
        };
        let mismatch = |field: &str, stored: &str, configured: &str| {
            ModelportError::new(
                ErrorCode::ConfigSchemaViolation,
                format!("the store holds {field} {stored}; the config says {configured} (vectors of both would not compare: use another path, or wipe this store)"),
            )
            .with_plugin(plugin)
            .with_json_path(format!("config.{field}"))
        };
        if let Some(format) = setting("format")?
            && format != FORMAT
        {
            return Err(ModelportError::new(
                ErrorCode::StorageError,
                format!(
                    "the store's layout is version {format}; this modelport reads version {FORMAT}"
                ),
            )
            .with_plugin(plugin));
        }
        let dims = match (setting("dims")?, config.dims) {
            (Some(stored), Some(configured)) if stored != configured.to_string() => {
                return Err(mismatch("dims", &stored, &configured.to_string()));
            }
            (Some(stored), _) => stored.parse().map_err(|_| {
                ModelportError::new(
                    ErrorCode::StorageError,
                    format!("the store's dims setting is {stored:?}"),
                )
                .with_plugin(plugin)
            })?,
            (None, Some(configured)) => configured,
            (None, None) => {
                return Err(ModelportError::new(
                    ErrorCode::ConfigSchemaViolation,
                    "config.dims is required to create a store (the dimensions of the embedder's vectors)",
                )
                .with_plugin(plugin)
                .with_json_path("config.dims"));
            }
        };
        let embedder_id = match (setting("embedder_id")?, &config.embedder_id) {
            (Some(stored), Some(configured)) if &stored != configured => {
                return Err(mismatch("embedderId", &stored, configured));
            }
            (Some(stored), _) => stored,
            (None, configured) => configured.clone().unwrap_or_default(),
        };
        for (name, value) in [
            ("format", FORMAT.to_string()),
            ("dims", dims.to_string()),
            ("embedder_id", embedder_id.clone()),
        ] {
            tx.execute(
                "INSERT OR IGNORE INTO store_settings (name, value) VALUES (?, ?)",
                params![name, value],
            )
            .map_err(storage)?;
        }
        tx.commit().map_err(storage)?;
        Ok((dims, embedder_id))
    }

    fn lock(&self) -> Result<MutexGuard<'_, Option<Open>>> {
        let guard = self
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if guard.is_none() {
            return Err(
                ModelportError::aborted("the vector store is closed").with_plugin(&self.plugin)
            );
        }
        Ok(guard)
    }

    fn storage(&self) -> impl Fn(rusqlite::Error) -> ModelportError + '_ {
        move |err| storage_error(&self.plugin, err).with_path(&self.config.path)
    }

    fn aborted(&self, what: &str) -> ModelportError {
        ModelportError::aborted(format!("the {what} was aborted")).with_plugin(&self.plugin)
    }

    /// Makes `repos[repo]` reflect the database: loaded if absent, loaded again if another
    /// process (or a failed write) moved the repo's generation.
    fn current(
        &self,
        db: &Connection,
        repos: &mut HashMap<String, Repo>,
        repo: &str,
        cancel: &CancellationToken,
    ) -> Result<()> {
        let storage = self.storage();
        // Read before every call: a cached statement, not a fresh parse each time.
        let generation: i64 = db
            .prepare_cached("SELECT generation FROM repos WHERE repo = ?")
            .map_err(&storage)?
            .query_row([repo], |row| row.get(0))
            .optional()
            .map_err(&storage)?
            .unwrap_or(0);
        if repos
            .get(repo)
            .is_some_and(|loaded| loaded.generation == generation)
        {
            return Ok(());
        }
        repos.remove(repo);
        let loaded = self.load(db, repo, generation, cancel)?;
        repos.insert(repo.to_string(), loaded);
        Ok(())
    }

    /// `repo`'s index at `generation`: its snapshot if one was saved at that generation, else
    /// built from the rows.
    fn load(
        &self,
        db: &Connection,
        repo: &str,
        generation: i64,
        cancel: &CancellationToken,
    ) -> Result<Repo> {
        let storage = self.storage();
        let snapshot: Option<Vec<u8>> = db
            .query_row(
                "SELECT data FROM index_snapshots WHERE repo = ? AND generation = ?",
                params![repo, generation],
                |row| row.get(0),
            )
            .optional()
            .map_err(&storage)?;
        let from_snapshot =
            snapshot.and_then(
                |bytes| match HnswIndex::load(self.dims, &self.config, &bytes) {
                    Ok(index) => Some(index),
                    Err(err) => {
                        log::warn!(
                            "{}: the saved index of repo {repo} is unusable ({err}); rebuilding it",
                            self.plugin
                        );
                        None
                    }
                },
            );
        let saved = from_snapshot.is_some();
        let mut postings = Postings::default();
        let mut vectors = Vec::new();
        {
            let mut rows = db
                .prepare_cached("SELECT key, metadata, vector FROM items WHERE repo = ?")
                .map_err(&storage)?;
            let mut rows = rows.query([repo]).map_err(&storage)?;
            while let Some(row) = rows.next().map_err(&storage)? {
                let key = row.get::<_, i64>(0).map_err(&storage)? as u64;
                postings.add(
                    key,
                    &metadata_of(&row.get::<_, String>(1).map_err(&storage)?),
                );
                if !saved {
                    let blob = row
                        .get_ref(2)
                        .map_err(&storage)?
                        .as_blob()
                        .unwrap_or_default();
                    vectors.push((key, unit(&vector_of(blob))));
                }
            }
        }
        let index = match from_snapshot {
            Some(index) => index,
            None => {
                let index = HnswIndex::new(self.dims, &self.config)?;
                index
                    .add_all(&vectors, cancel)
                    .map_err(|err| err.with_plugin(&self.plugin))?;
                index
            }
        };
        Ok(Repo {
            index,
            postings,
            generation,
            saved,
        })
    }
}

impl VectorBackend for SqliteVectorStore {
    /// Stores `items` in `repo` (an id already there is replaced). All or nothing.
    fn upsert(&self, repo: &str, items: Vec<VectorItem>, cancel: &CancellationToken) -> Result<()> {
        check_repo(repo).map_err(|err| err.with_plugin(&self.plugin))?;
        let items = checked_batch(items, self.dims).map_err(|err| err.with_plugin(&self.plugin))?;
        if items.is_empty() {
            return Ok(());
        }
        let mut guard = self.lock()?;
        let Open { db, repos } = guard.as_mut().expect("checked open");
        let storage = self.storage();
        let tx = rusqlite::Transaction::new_unchecked(db, TransactionBehavior::Immediate)
            .map_err(&storage)?;
        self.current(&tx, repos, repo, cancel)?;
        let mut replaced: Vec<(u64, Metadata)> = Vec::new();
        let mut added: Vec<(u64, Vec<f32>)> = Vec::with_capacity(items.len());
        {
            let mut find = tx
                .prepare_cached("SELECT key, metadata FROM items WHERE repo = ? AND id = ?")
                .map_err(&storage)?;
            let mut update = tx
                .prepare_cached(
                    "UPDATE items SET vector = ?, metadata = ?, content = ? WHERE key = ?",
                )
                .map_err(&storage)?;
            let mut insert = tx
                .prepare_cached("INSERT INTO items (repo, id, vector, metadata, content) VALUES (?, ?, ?, ?, ?)")
                .map_err(&storage)?;
            for (at, item) in items.iter().enumerate() {
                if at % CANCEL_CHECK_EVERY == 0 && cancel.is_cancelled() {
                    return Err(self.aborted("upsert"));
                }
                let metadata =
                    serde_json::to_string(&item.metadata).unwrap_or_else(|_| "{}".into());
                let blob = vector_bytes(&item.vector);
                let existing: Option<(i64, String)> = find
                    .query_row(params![repo, item.id], |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()
                    .map_err(&storage)?;
                let key = match existing {
                    Some((key, old)) => {
                        update
                            .execute(params![blob, metadata, item.content, key])
                            .map_err(&storage)?;
                        replaced.push((key as u64, metadata_of(&old)));
                        key
                    }
                    None => {
                        insert
                            .execute(params![repo, item.id, blob, metadata, item.content])
                            .map_err(&storage)?;
                        tx.last_insert_rowid()
                    }
                };
                added.push((key as u64, unit(&item.vector)));
            }
        }
        let generation = raise_generation(&tx, repo).map_err(&storage)?;
        let entry = repos.get_mut(repo).expect("made current");
        let applied = (|| {
            for (key, _) in &replaced {
                entry.index.remove(*key)?;
            }
            entry.index.add_all(&added, cancel)
        })();
        let committed = applied.and_then(|()| tx.commit().map_err(&storage));
        if let Err(err) = committed {
            // The index may hold part of a write the database rolled back: load it again.
            repos.remove(repo);
            return Err(err.with_plugin(&self.plugin));
        }
        for (key, old) in &replaced {
            entry.postings.remove(*key, old);
        }
        for ((key, _), item) in added.iter().zip(&items) {
            entry.postings.add(*key, &item.metadata);
        }
        entry.generation = generation;
        entry.saved = false;
        Ok(())
    }

    /// The `top_k` items of `repo` closest to `vector` (best first), only those whose metadata
    /// equals every value of `filter` when one is given. An unknown repo has no items.
    fn query(
        &self,
        repo: &str,
        vector: &[f32],
        top_k: usize,
        filter: Option<&Metadata>,
        cancel: &CancellationToken,
    ) -> Result<Vec<VectorQueryResult>> {
        let checked = (|| {
            check_repo(repo)?;
            check_vector(vector, self.dims, "vector")?;
            if !(1..=TOP_K_MAX).contains(&top_k) {
                return Err(ModelportError::new(
                    ErrorCode::InvalidRequest,
                    format!("topK must be within 1..={TOP_K_MAX}, got {top_k}"),
                )
                .with_json_path("topK"));
            }
            filter.map_or(Ok(()), |filter| check_metadata(filter, "filter"))
        })();
        checked.map_err(|err| err.with_plugin(&self.plugin))?;
        let mut guard = self.lock()?;
        let Open { db, repos } = guard.as_mut().expect("checked open");
        let storage = self.storage();
        self.current(db, repos, repo, cancel)?;
        let entry = &repos[repo];
        let allowed = filter
            .filter(|f| !f.is_empty())
            .map(|filter| entry.postings.matching(filter));
        let hits = entry
            .index
            .search(&unit(vector), top_k, allowed.as_ref())
            .map_err(|err| err.with_plugin(&self.plugin))?;
        if cancel.is_cancelled() {
            return Err(self.aborted("query"));
        }
        let mut row = db
            .prepare_cached("SELECT id, metadata, content FROM items WHERE key = ?")
            .map_err(&storage)?;
        let mut matches = Vec::with_capacity(hits.len());
        for (key, score) in hits {
            let found = row
                .query_row([key as i64], |row| {
                    Ok(VectorQueryResult {
                        id: row.get(0)?,
                        score,
                        metadata: metadata_of(&row.get::<_, String>(1)?),
                        content: row.get(2)?,
                    })
                })
                .optional()
                .map_err(&storage)?;
            matches.extend(found);
        }
        Ok(matches)
    }

    /// Deletes the items of `repo` with these ids (ids not there are ignored); how many went.
    fn delete_by_ids(
        &self,
        repo: &str,
        ids: &[String],
        cancel: &CancellationToken,
    ) -> Result<usize> {
        check_repo(repo).map_err(|err| err.with_plugin(&self.plugin))?;
        let mut guard = self.lock()?;
        let Open { db, repos } = guard.as_mut().expect("checked open");
        let storage = self.storage();
        let tx = rusqlite::Transaction::new_unchecked(db, TransactionBehavior::Immediate)
            .map_err(&storage)?;
        self.current(&tx, repos, repo, cancel)?;
        let mut gone: Vec<(u64, Metadata)> = Vec::new();
        {
            let mut delete = tx
                .prepare_cached(
                    "DELETE FROM items WHERE repo = ? AND id = ? RETURNING key, metadata",
                )
                .map_err(&storage)?;
            for (at, id) in ids.iter().enumerate() {
                if at % CANCEL_CHECK_EVERY == 0 && cancel.is_cancelled() {
                    return Err(self.aborted("delete"));
                }
                let deleted: Option<(i64, String)> = delete
                    .query_row(params![repo, id], |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()
                    .map_err(&storage)?;
                gone.extend(deleted.map(|(key, metadata)| (key as u64, metadata_of(&metadata))));
            }
        }
        if gone.is_empty() {
            return Ok(0);
        }
        let generation = raise_generation(&tx, repo).map_err(&storage)?;
        let entry = repos.get_mut(repo).expect("made current");
        let applied = gone
            .iter()
            .try_for_each(|(key, _)| entry.index.remove(*key));
        if let Err(err) = applied.and_then(|()| tx.commit().map_err(&storage)) {
            repos.remove(repo);
            return Err(err.with_plugin(&self.plugin));
        }
        for (key, metadata) in &gone {
            entry.postings.remove(*key, metadata);
        }
        entry.generation = generation;
        entry.saved = false;
        Ok(gone.len())
    }

    /// Deletes every item of `repo`; how many went.
    fn wipe_repo(&self, repo: &str) -> Result<usize> {
        check_repo(repo).map_err(|err| err.with_plugin(&self.plugin))?;
        let mut guard = self.lock()?;
        let Open { db, repos } = guard.as_mut().expect("checked open");
        let storage = self.storage();
        let tx = rusqlite::Transaction::new_unchecked(db, TransactionBehavior::Immediate)
            .map_err(&storage)?;
        let gone = tx
            .execute("DELETE FROM items WHERE repo = ?", [repo])
            .map_err(&storage)?;
        tx.execute("DELETE FROM index_snapshots WHERE repo = ?", [repo])
            .map_err(&storage)?;
        // The generation goes on rising: a process holding the old index must not take the next
        // write's generation for its own.
        raise_generation(&tx, repo).map_err(&storage)?;
        tx.commit().map_err(&storage)?;
        repos.remove(repo);
        Ok(gone)
    }

    /// What this store is.
    fn info(&self) -> VectorBackendInfo {
        VectorBackendInfo {
            backend: "sqlite-hnsw".into(),
            dims: self.dims,
            embedder_id: self.embedder_id.clone(),
            location: "local".into(),
            supports_filters: true,
        }
    }

    /// Whether the database answers, with its size.
    fn health(&self) -> Health {
        let answer = self.lock().and_then(|guard| {
            let Open { db, .. } = guard.as_ref().expect("checked open");
            db.query_row(
                "SELECT count(*), count(DISTINCT repo) FROM items",
                [],
                |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)),
            )
            .map_err(self.storage())
        });
        match answer {
            Ok((items, repos)) => Health {
                healthy: true,
                message: format!(
                    "{items} items in {repos} repos, {} dimensions, {}",
                    self.dims,
                    self.config.path.display()
                ),
                code: None,
            },
            Err(err) => Health {
                healthy: false,
                message: err.message.clone(),
                code: Some(err.code),
            },
        }
    }

    /// Saves the indexes changed since they were loaded (so the next open need not rebuild them)
    /// and closes the database; later calls fail with `ABORTED`. Closing twice is fine.
    fn close(&self) -> Result<()> {
        let mut guard = self
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(Open { db, repos }) = guard.take() else {
            return Ok(());
        };
        let storage = self.storage();
        if !self.config.in_memory() {
            for (name, repo) in repos
                .iter()
                .filter(|(_, repo)| !repo.saved && repo.generation > 0)
            {
                let bytes = repo.index.save()?;
                // Saved only if no other process wrote since: a stale snapshot is never trusted,
                // but writing one costs time.
                db.execute(
                    "INSERT OR REPLACE INTO index_snapshots (repo, generation, data)
                     SELECT ?1, ?2, ?3 WHERE (SELECT generation FROM repos WHERE repo = ?1) = ?2",
                    params![name, repo.generation, bytes],
                )
                .map_err(&storage)?;
            }
        }
        drop(repos);
        db.close().map_err(|(_, err)| storage(err))
    }
}

impl Drop for SqliteVectorStore {
    fn drop(&mut self) {
        if let Err(err) = self.close() {
            log::warn!("{}: closing the vector store: {err}", self.plugin);
        }
    }
}

/// Raises `repo`'s generation within `tx`; the new one.
fn raise_generation(tx: &Connection, repo: &str) -> rusqlite::Result<i64> {
    tx.query_row(
        "INSERT INTO repos (repo, generation) VALUES (?, 1)
         ON CONFLICT (repo) DO UPDATE SET generation = generation + 1 RETURNING generation",
        [repo],
        |row| row.get(0),
    )
}

fn storage_error(plugin: &str, err: rusqlite::Error) -> ModelportError {
    ModelportError::new(
        ErrorCode::StorageError,
        format!("the vector store's database failed: {err}"),
    )
    .with_plugin(plugin)
}
