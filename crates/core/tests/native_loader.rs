//! The native loader against real plugin libraries built from this workspace: the shipped
//! `scripted` and `openai` plugins and the hostile fixtures (`crates/fixtures/examples`).
//! `cargo test --workspace` builds them (libraries and examples) before running this.
use std::path::{Path, PathBuf};
use std::sync::Arc;

use modelport_core::config::ProviderEntry;
use modelport_core::sdk::ChatMessage;
use modelport_core::{CallOptions, ErrorCode, LoadedPlugin, Registry, RegistryConfig};
use serde_json::{Map, Value, json};

/// `<target>/<profile>`, found from this test binary (`<target>/<profile>/deps/…`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().to_path_buf()
}

fn library(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(format!(
        "{}{name}.{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_EXTENSION
    ));
    assert!(
        path.exists(),
        "{} is not built: run `cargo build --workspace --lib --examples`",
        path.display()
    );
    path
}

fn shipped(name: &str) -> PathBuf {
    library(&profile_dir(), name)
}

fn fixture(name: &str) -> PathBuf {
    library(&profile_dir().join("examples"), name)
}

fn entry(name: &str, path: &Path, config: Value) -> ProviderEntry {
    serde_json::from_value(json!({"name": name, "path": path, "config": config})).unwrap()
}

fn load(path: &Path) -> Result<LoadedPlugin, modelport_core::ModelportError> {
    LoadedPlugin::load(
        &entry("p", path, json!({})),
        Path::new("/"),
        &modelport_core::http::HttpEngine::new(),
        None,
    )
}

#[test]
fn loads_the_shipped_plugins_and_reads_their_metadata() {
    let scripted = load(&shipped("scripted")).unwrap();
    assert_eq!(scripted.info().provider, "scripted");
    assert!(!scripted.info().host_http);
    assert_eq!(
        scripted.info().version.as_deref(),
        Some(env!("CARGO_PKG_VERSION"))
    );
    let openai = load(&shipped("openai")).unwrap();
    assert!(openai.info().host_http);
    assert_eq!(
        openai.info().api_key_name.as_deref(),
        Some("OPENAI_API_KEY")
    );
    assert!(openai.schema().has_property("base_url"));
}

#[test]
fn load_failures_are_typed_and_name_the_path() {
    let cases = [
        (
            PathBuf::from("/nonexistent/lib.so"),
            ErrorCode::PluginLoadFailed,
            "file not found",
        ),
        (
            fixture("no_factory"),
            ErrorCode::PluginLoadFailed,
            "neither plugin_factory nor plugin_http_factory",
        ),
        (
            fixture("null_factory"),
            ErrorCode::PluginLoadFailed,
            "returned no factory",
        ),
        (
            fixture("no_descriptor"),
            ErrorCode::AbiMismatch,
            "no ABI descriptor",
        ),
        (
            fixture("abi_old"),
            ErrorCode::AbiMismatch,
            "implements ABI version 0",
        ),
        (
            fixture("abi_future"),
            ErrorCode::AbiMismatch,
            "implements ABI version 99",
        ),
        (
            fixture("panic_in_factory"),
            ErrorCode::PluginPanicked,
            "fixture panic in the factory",
        ),
    ];
    for (path, code, reason) in cases {
        let err = load(&path)
            .err()
            .unwrap_or_else(|| panic!("{} loaded", path.display()));
        assert_eq!(err.code, code, "{err}");
        assert!(err.message.contains(reason), "{err}");
        assert_eq!(
            err.path.as_deref(),
            Some(path.display().to_string().as_str())
        );
        assert_eq!(err.plugin.as_deref(), Some("p"));
    }
}

fn registry(entries: Vec<ProviderEntry>) -> Registry {
    Registry::from_config(
        RegistryConfig {
            providers: entries,
            ..RegistryConfig::default()
        },
        PathBuf::from("/"),
    )
}

#[tokio::test]
async fn an_async_plugin_answers_on_the_hosts_runtime() {
    let registry = registry(vec![entry(
        "bot",
        &shipped("scripted"),
        json!({"latency_ms": 10}),
    )]);
    let provider = registry.build("bot", &Map::new()).await.unwrap();
    let answer = provider
        .chat(&[ChatMessage::user("ping")], None, &CallOptions::default())
        .await
        .unwrap();
    assert_eq!(answer.text.as_deref(), Some("ping"));
    assert_eq!(
        provider
            .embed(&["a".into(), "b".into()], &CallOptions::default())
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn panics_in_provider_methods_become_errors_and_the_plugin_keeps_working() {
    let registry = registry(vec![entry(
        "panicky",
        &fixture("panicky"),
        json!({"base_url": "http://127.0.0.1:9"}),
    )]);
    let overrides = |point: &str| json!({"panic_in": point}).as_object().unwrap().clone();
    let err = registry
        .build("panicky", &overrides("from_config"))
        .await
        .err()
        .unwrap();
    assert_eq!(err.code, ErrorCode::PluginPanicked);
    let provider = registry
        .build("panicky", &overrides("chat_request"))
        .await
        .unwrap();
    let err = provider
        .chat(&[ChatMessage::user("x")], None, &CallOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::PluginPanicked);
    assert!(err.message.contains("chat_request"), "{err}");
    // The same plugin still serves: this provider gets as far as the (refused) connection.
    let healthy = registry.build("panicky", &Map::new()).await.unwrap();
    let err = healthy
        .chat(&[ChatMessage::user("x")], None, &CallOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Transport);
}

#[tokio::test]
async fn a_provider_outlives_its_registry_handle_and_close_aborts() {
    let registry = registry(vec![entry("bot", &shipped("scripted"), json!({}))]);
    let provider = registry.build("bot", &Map::new()).await.unwrap();
    let plugin = registry.load("bot").await.unwrap();
    let kept_library = Arc::clone(plugin.library().expect("a native plugin"));
    drop(plugin);
    drop(registry);
    assert_eq!(
        provider
            .chat(&[ChatMessage::user("still")], None, &CallOptions::default())
            .await
            .unwrap()
            .text
            .as_deref(),
        Some("still")
    );
    assert!(
        Arc::strong_count(&kept_library) >= 2,
        "the provider keeps the library alive"
    );

    let registry = registry_with_latency();
    let slow = registry.build("bot", &Map::new()).await.unwrap();
    let call = tokio::spawn(async move {
        slow.chat(&[ChatMessage::user("x")], None, &CallOptions::default())
            .await
    });
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    registry.close();
    let err = call.await.unwrap().unwrap_err();
    assert_eq!(err.code, ErrorCode::Aborted);
}

fn registry_with_latency() -> Registry {
    registry(vec![entry(
        "bot",
        &shipped("scripted"),
        json!({"latency_ms": 10_000}),
    )])
}
