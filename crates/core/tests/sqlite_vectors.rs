//! The reference vector store through its public API: persistence, repos, filters, deletes,
//! concurrent writers, cancellation, bad input.
use modelport_core::ErrorCode;
use modelport_core::vectors::{
    Metadata, SqliteVectorConfig, SqliteVectorStore, VectorBackend, VectorItem,
};
use serde_json::json;
use tokio_util::sync::CancellationToken;

const DIMS: usize = 16;

fn config(path: &std::path::Path, dims: Option<usize>) -> SqliteVectorConfig {
    let mut value = json!({ "path": path });
    if let Some(dims) = dims {
        value["dims"] = json!(dims);
    }
    SqliteVectorConfig::from_json("vectors", value).unwrap()
}

/// A deterministic pseudo-random vector (xorshift), so tests need no RNG crate.
fn vector(seed: u64) -> Vec<f32> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..DIMS)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % 2001) as f32 / 1000.0 - 1.0
        })
        .collect()
}

fn item(id: &str, seed: u64, metadata: serde_json::Value) -> VectorItem {
    VectorItem {
        id: id.into(),
        vector: vector(seed),
        metadata: metadata.as_object().cloned().unwrap_or_default(),
        content: Some(format!("content of {id}")),
    }
}

fn ids(matches: &[modelport_core::vectors::VectorQueryResult]) -> Vec<&str> {
    matches.iter().map(|m| m.id.as_str()).collect()
}

fn never() -> CancellationToken {
    CancellationToken::new()
}

#[test]
fn items_persist_across_opens_with_and_without_a_saved_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/store.db");
    let items: Vec<_> = (0..300)
        .map(|i| item(&format!("doc{i}"), i, json!({ "n": i % 3 })))
        .collect();
    {
        let store = SqliteVectorStore::open("vectors", config(&path, Some(DIMS))).unwrap();
        store.upsert("repo", items.clone(), &never()).unwrap();
        store.close().unwrap();
    }
    // Reopened without dims: the store knows its own. The index comes from the snapshot.
    let store = SqliteVectorStore::open("vectors", config(&path, None)).unwrap();
    assert_eq!(store.info().dims, DIMS);
    let found = store.query("repo", &vector(42), 1, None, &never()).unwrap();
    assert_eq!(ids(&found), ["doc42"]);
    assert!((found[0].score - 1.0).abs() < 1e-4, "{}", found[0].score);
    assert_eq!(found[0].content.as_deref(), Some("content of doc42"));
    assert_eq!(
        found[0].metadata,
        json!({ "n": 0 }).as_object().unwrap().clone()
    );
    // A write after the snapshot (then a crash: no close) makes the next open rebuild.
    store
        .upsert("repo", vec![item("late", 1000, json!({}))], &never())
        .unwrap();
    std::mem::forget(store);
    let store = SqliteVectorStore::open("vectors", config(&path, Some(DIMS))).unwrap();
    assert_eq!(
        ids(&store
            .query("repo", &vector(1000), 1, None, &never())
            .unwrap()),
        ["late"]
    );
    assert_eq!(
        ids(&store.query("repo", &vector(7), 1, None, &never()).unwrap()),
        ["doc7"]
    );
}

#[test]
fn repos_are_isolated_and_wiped_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        SqliteVectorStore::open("vectors", config(&dir.path().join("s.db"), Some(DIMS))).unwrap();
    store
        .upsert("a", vec![item("x", 1, json!({}))], &never())
        .unwrap();
    store
        .upsert("b", vec![item("y", 1, json!({}))], &never())
        .unwrap();
    assert_eq!(
        ids(&store.query("a", &vector(1), 5, None, &never()).unwrap()),
        ["x"]
    );
    assert_eq!(
        ids(&store.query("b", &vector(1), 5, None, &never()).unwrap()),
        ["y"]
    );
    assert_eq!(store.wipe_repo("a").unwrap(), 1);
    assert!(
        store
            .query("a", &vector(1), 5, None, &never())
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        ids(&store.query("b", &vector(1), 5, None, &never()).unwrap()),
        ["y"]
    );
    assert!(
        store
            .query("never-written", &vector(1), 5, None, &never())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn filters_upserts_and_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        SqliteVectorStore::open("vectors", config(&dir.path().join("s.db"), Some(DIMS))).unwrap();
    let items: Vec<_> = (0..200)
        .map(|i| {
            item(
                &format!("d{i}"),
                i,
                json!({ "lang": if i % 2 == 0 { "rust" } else { "go" }, "year": 2020 + i % 5 }),
            )
        })
        .collect();
    store.upsert("r", items, &never()).unwrap();
    let filter: Metadata = json!({ "lang": "go", "year": 2021 })
        .as_object()
        .unwrap()
        .clone();
    let found = store
        .query("r", &vector(11), 50, Some(&filter), &never())
        .unwrap();
    // i odd and i % 5 == 1: 1, 11, 21, ... 191 — 20 items, the closest first.
    assert_eq!(found.len(), 20);
    assert_eq!(found[0].id, "d11");
    assert!(
        found
            .iter()
            .all(|m| m.metadata["lang"] == "go" && m.metadata["year"] == 2021)
    );
    assert!(found.windows(2).all(|w| w[0].score >= w[1].score));
    // Replacing an item replaces its metadata in the filters too.
    store
        .upsert(
            "r",
            vec![item("d11", 11, json!({ "lang": "zig" }))],
            &never(),
        )
        .unwrap();
    let found = store
        .query("r", &vector(11), 50, Some(&filter), &never())
        .unwrap();
    assert_eq!(found.len(), 19);
    assert!(!ids(&found).contains(&"d11"));
    assert_eq!(
        store
            .delete_by_ids("r", &["d21".into(), "missing".into()], &never())
            .unwrap(),
        1
    );
    let found = store.query("r", &vector(21), 1, None, &never()).unwrap();
    assert_ne!(found[0].id, "d21");
}

#[test]
fn a_write_by_another_connection_is_seen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let first = SqliteVectorStore::open("one", config(&path, Some(DIMS))).unwrap();
    let second = SqliteVectorStore::open("two", config(&path, None)).unwrap();
    first
        .upsert("r", vec![item("a", 1, json!({}))], &never())
        .unwrap();
    assert_eq!(
        ids(&second.query("r", &vector(1), 5, None, &never()).unwrap()),
        ["a"]
    );
    second
        .upsert("r", vec![item("b", 2, json!({}))], &never())
        .unwrap();
    second.delete_by_ids("r", &["a".into()], &never()).unwrap();
    assert_eq!(
        ids(&first.query("r", &vector(1), 5, None, &never()).unwrap()),
        ["b"]
    );
    // A wipe elsewhere, then a write: the old index must not pass for the new one.
    second.wipe_repo("r").unwrap();
    second
        .upsert("r", vec![item("c", 3, json!({}))], &never())
        .unwrap();
    assert_eq!(
        ids(&first.query("r", &vector(1), 5, None, &never()).unwrap()),
        ["c"]
    );
}

#[test]
fn an_aborted_upsert_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        SqliteVectorStore::open("vectors", config(&dir.path().join("s.db"), Some(DIMS))).unwrap();
    store
        .upsert("r", vec![item("kept", 1, json!({}))], &never())
        .unwrap();
    let cancelled = CancellationToken::new();
    cancelled.cancel();
    let items: Vec<_> = (0..50)
        .map(|i| item(&format!("n{i}"), 100 + i, json!({})))
        .collect();
    let err = store.upsert("r", items, &cancelled).unwrap_err();
    assert_eq!(err.code, ErrorCode::Aborted);
    assert_eq!(
        ids(&store.query("r", &vector(101), 10, None, &never()).unwrap()),
        ["kept"]
    );
}

#[test]
fn bad_input_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let err = SqliteVectorStore::open("vectors", config(&path, None))
        .err()
        .unwrap();
    assert_eq!(
        (err.code, err.json_path.as_deref()),
        (ErrorCode::ConfigSchemaViolation, Some("config.dims"))
    );
    let store = SqliteVectorStore::open("vectors", config(&path, Some(DIMS))).unwrap();
    let mut short = item("a", 1, json!({}));
    short.vector.pop();
    let err = store
        .upsert("r", vec![item("ok", 2, json!({})), short], &never())
        .unwrap_err();
    assert_eq!(
        (err.code, err.json_path.as_deref()),
        (ErrorCode::InvalidRequest, Some("items[1].vector"))
    );
    assert_eq!(err.plugin.as_deref(), Some("vectors"));
    assert!(
        store
            .query("r", &vector(2), 5, None, &never())
            .unwrap()
            .is_empty(),
        "nothing of the batch was stored"
    );
    let err = store.query("r", &[1.0; 3], 5, None, &never()).unwrap_err();
    assert_eq!(err.json_path.as_deref(), Some("vector"));
    let err = store.query("r", &vector(1), 0, None, &never()).unwrap_err();
    assert_eq!(err.json_path.as_deref(), Some("topK"));
    store.close().unwrap();
    let err = SqliteVectorStore::open("vectors", config(&path, Some(DIMS + 1)))
        .err()
        .unwrap();
    assert!(
        err.message.contains("dims 16") && err.message.contains("17"),
        "{}",
        err.message
    );
    let not_a_db = dir.path().join("text.db");
    std::fs::write(
        &not_a_db,
        "this is not a database, just some text that is long enough",
    )
    .unwrap();
    let err = SqliteVectorStore::open("vectors", config(&not_a_db, Some(DIMS)))
        .err()
        .unwrap();
    assert_eq!(err.code, ErrorCode::StorageError);
    assert_eq!(err.path.as_deref(), Some(not_a_db.to_str().unwrap()));
}

#[test]
fn approximate_answers_match_exact_ones_closely_with_and_without_filters() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        SqliteVectorStore::open("vectors", config(&dir.path().join("s.db"), Some(DIMS))).unwrap();
    // 10,000 items, half of them even: a filter too wide for an exact scan walks the graph.
    let items: Vec<_> = (0..10_000)
        .map(|i| item(&format!("d{i}"), i, json!({ "even": i % 2 == 0 })))
        .collect();
    let unit = |v: &[f32]| {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect::<Vec<_>>()
    };
    let units: Vec<Vec<f32>> = items.iter().map(|it| unit(&it.vector)).collect();
    let exact = |query: &[f32], even_only: bool| {
        let q = unit(query);
        let mut scored: Vec<(f32, usize)> = (0..items.len())
            .filter(|i| !even_only || i % 2 == 0)
            .map(|i| (units[i].iter().zip(&q).map(|(a, b)| a * b).sum(), i))
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        scored
            .into_iter()
            .take(10)
            .map(|(_, i)| format!("d{i}"))
            .collect::<Vec<_>>()
    };
    store.upsert("r", items.clone(), &never()).unwrap();
    let even: Metadata = json!({ "even": true }).as_object().unwrap().clone();
    let (mut hits, mut filtered_hits) = (0, 0);
    for q in 0..40 {
        let query = vector(100_000 + q);
        let found = store.query("r", &query, 10, None, &never()).unwrap();
        let truth = exact(&query, false);
        hits += found.iter().filter(|m| truth.contains(&m.id)).count();
        let found = store.query("r", &query, 10, Some(&even), &never()).unwrap();
        assert_eq!(found.len(), 10);
        assert!(found.iter().all(|m| m.metadata["even"] == true));
        let truth = exact(&query, true);
        filtered_hits += found.iter().filter(|m| truth.contains(&m.id)).count();
    }
    let (recall, filtered_recall) = (hits as f64 / 400.0, filtered_hits as f64 / 400.0);
    assert!(recall >= 0.95, "recall@10 {recall}");
    assert!(
        filtered_recall >= 0.95,
        "filtered recall@10 {filtered_recall}"
    );
}

#[test]
fn a_closed_store_refuses_calls() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        SqliteVectorStore::open("vectors", config(&dir.path().join("s.db"), Some(DIMS))).unwrap();
    store.close().unwrap();
    store.close().unwrap();
    let err = store.query("r", &vector(1), 1, None, &never()).unwrap_err();
    assert_eq!(err.code, ErrorCode::Aborted);
    assert!(!store.health().healthy);
}

#[test]
fn a_store_of_another_layout_or_embedder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let with_embedder = |embedder: &str| {
        SqliteVectorConfig::from_json(
            "vectors",
            json!({ "path": path, "dims": DIMS, "embedderId": embedder }),
        )
        .unwrap()
    };
    SqliteVectorStore::open("vectors", with_embedder("a"))
        .unwrap()
        .close()
        .unwrap();
    let err = SqliteVectorStore::open("vectors", with_embedder("b"))
        .err()
        .unwrap();
    assert_eq!(
        (err.code, err.json_path.as_deref()),
        (ErrorCode::ConfigSchemaViolation, Some("config.embedderId"))
    );
    // A layout this modelport does not know (a newer one, say) is never read as its own.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute(
            "UPDATE store_settings SET value = '9' WHERE name = 'format'",
            [],
        )
        .unwrap();
    let err = SqliteVectorStore::open("vectors", with_embedder("a"))
        .err()
        .unwrap();
    assert_eq!(err.code, ErrorCode::StorageError);
    assert!(err.message.contains("version 9"), "{}", err.message);
}
