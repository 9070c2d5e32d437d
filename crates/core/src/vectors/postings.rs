//! Metadata postings of one repo: for each `name = value`, the keys of the items holding it — so a
//! query's filter (equalities, all of them) becomes a set of keys without reading any row.
use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::Metadata;

/// `name = value` as one string: the value's type is part of it (`1` is not `"1"`).
fn term(name: &str, value: &Value) -> String {
    match value {
        Value::String(s) => format!("{name}\0s\0{s}"),
        Value::Bool(b) => format!("{name}\0b\0{b}"),
        // Numbers compare as numbers: 1 and 1.0 are one term.
        Value::Number(n) => format!("{name}\0n\0{}", n.as_f64().unwrap_or(f64::NAN)),
        other => format!("{name}\0?\0{other}"),
    }
}

#[derive(Default)]
pub(super) struct Postings {
    terms: HashMap<String, HashSet<u64>>,
}

impl Postings {
    pub fn add(&mut self, key: u64, metadata: &Metadata) {
        for (name, value) in metadata {
            self.terms.entry(term(name, value)).or_default().insert(key);
        }
    }

    pub fn remove(&mut self, key: u64, metadata: &Metadata) {
        for (name, value) in metadata {
            let term = term(name, value);
            if let Some(keys) = self.terms.get_mut(&term) {
                keys.remove(&key);
                if keys.is_empty() {
                    self.terms.remove(&term);
                }
            }
        }
    }

    /// The keys of items matching every equality of `filter`.
    pub fn matching(&self, filter: &Metadata) -> HashSet<u64> {
        let mut sets = Vec::with_capacity(filter.len());
        for (name, value) in filter {
            match self.terms.get(&term(name, value)) {
                Some(keys) => sets.push(keys),
                None => return HashSet::new(),
            }
        }
        sets.sort_by_key(|keys| keys.len());
        let Some((smallest, rest)) = sets.split_first() else {
            return HashSet::new();
        };
        smallest
            .iter()
            .filter(|key| rest.iter().all(|keys| keys.contains(key)))
            .copied()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta(value: Value) -> Metadata {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn every_equality_must_hold_and_types_matter() {
        let mut postings = Postings::default();
        postings.add(
            1,
            &meta(json!({ "lang": "rust", "year": 2024, "draft": false })),
        );
        postings.add(2, &meta(json!({ "lang": "rust", "year": "2024" })));
        postings.add(3, &meta(json!({ "lang": "go", "year": 2024.0 })));
        let keys = |postings: &Postings, filter| {
            let mut keys: Vec<u64> = postings.matching(&meta(filter)).into_iter().collect();
            keys.sort();
            keys
        };
        assert_eq!(keys(&postings, json!({ "lang": "rust" })), vec![1, 2]);
        assert_eq!(keys(&postings, json!({ "year": 2024 })), vec![1, 3]);
        assert_eq!(
            keys(&postings, json!({ "lang": "rust", "year": 2024 })),
            vec![1]
        );
        assert_eq!(keys(&postings, json!({ "lang": "zig" })), Vec::<u64>::new());
        postings.remove(
            1,
            &meta(json!({ "lang": "rust", "year": 2024, "draft": false })),
        );
        assert_eq!(
            keys(&postings, json!({ "draft": false })),
            Vec::<u64>::new()
        );
    }
}
