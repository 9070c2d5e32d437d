//! Building a provider's config: static config → API key from its env var → builder fields.
use serde_json::{Map, Value};

/// Merges in QueryMT's order: the entry's static `config`; then, only if neither it nor the
/// builder has an `api_key`, the value of the one environment variable the entry's key comes from
/// (`api_key_env`) — no other variable is read; then the builder's fields, which override both.
pub fn merge_config(
    static_config: &Map<String, Value>,
    api_key_env: Option<&str>,
    read_env: impl Fn(&str) -> Option<String>,
    overrides: &Map<String, Value>,
) -> Map<String, Value> {
    let mut merged = static_config.clone();
    if !merged.contains_key("api_key")
        && !overrides.contains_key("api_key")
        && let Some(key) = api_key_env
            .filter(|name| !name.is_empty())
            .and_then(&read_env)
    {
        merged.insert("api_key".into(), Value::String(key));
    }
    for (key, value) in overrides {
        merged.insert(key.clone(), value.clone());
    }
    merged
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn order_is_static_then_env_then_builder() {
        let env = |name: &str| (name == "OPENAI_API_KEY").then(|| "from-env".to_string());
        let merged = merge_config(
            &map(json!({"model": "a", "temperature": 0.1})),
            Some("OPENAI_API_KEY"),
            env,
            &map(json!({"model": "b"})),
        );
        assert_eq!(
            Value::Object(merged),
            json!({"model": "b", "temperature": 0.1, "api_key": "from-env"})
        );
    }

    #[test]
    fn static_api_key_wins_over_env_and_builder_wins_over_both() {
        let env = |_: &str| Some("from-env".to_string());
        let merged = merge_config(
            &map(json!({"api_key": "static"})),
            Some("K"),
            env,
            &Map::new(),
        );
        assert_eq!(merged["api_key"], "static");
        let merged = merge_config(
            &map(json!({"api_key": "static"})),
            Some("K"),
            env,
            &map(json!({"api_key": "builder"})),
        );
        assert_eq!(merged["api_key"], "builder");
    }

    #[test]
    fn a_key_given_by_the_builder_reads_no_variable() {
        let merged = merge_config(
            &Map::new(),
            Some("K"),
            |_| panic!("no variable may be read"),
            &map(json!({"api_key": "builder"})),
        );
        assert_eq!(merged["api_key"], "builder");
    }

    #[test]
    fn only_the_named_variable_is_read() {
        let asked = std::cell::RefCell::new(Vec::new());
        let env = |name: &str| {
            asked.borrow_mut().push(name.to_string());
            None
        };
        merge_config(&Map::new(), Some("MY_KEY"), env, &Map::new());
        assert_eq!(*asked.borrow(), vec!["MY_KEY".to_string()]);
        merge_config(
            &Map::new(),
            None,
            |_| panic!("no variable may be read"),
            &Map::new(),
        );
    }
}
