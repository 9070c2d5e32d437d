//! The raw Extism host (`RawWasmPlugin`) against the WAT fixture in `wasm/wat/hostile.wat`.
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use modelport_core::ErrorCode;
use modelport_core::wasm::{ModuleCache, RawHost, RawWasmPlugin, Sandbox, WasmOptions};

/// Found through the `CARGO_MANIFEST_DIR` cargo sets when it *runs* the test, not the one baked
/// in at compile time: the build cache is shared between clones, and a test binary built in
/// another clone of the same sources is reused as up to date.
fn fixture() -> PathBuf {
    let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR").expect("run through cargo test");
    PathBuf::from(crate_dir).join("../../wasm/wat/hostile.wat")
}

fn load(options: WasmOptions) -> (tempfile::TempDir, RawWasmPlugin) {
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = ModuleCache::at(cache_dir.path()).unwrap();
    let plugin =
        RawWasmPlugin::load_file(&fixture(), &options, cache, &RawHost::default()).unwrap();
    (cache_dir, plugin)
}

/// The slack a timing bound gets: the tests run on loaded 2-core machines, so an upper bound only
/// tells "stopped by the mechanism under test" (the alternative never stops), never how fast.
const SLACK: Duration = Duration::from_secs(10);

/// A raw plugin's options with `sandbox` and no Extism config.
fn sandboxed(sandbox: Sandbox) -> WasmOptions {
    WasmOptions {
        sandbox,
        ..WasmOptions::default()
    }
}

fn short_timeout() -> WasmOptions {
    sandboxed(Sandbox {
        timeout: Some(Duration::from_millis(200)),
        ..Sandbox::default()
    })
}

#[test]
fn echo_round_trips_bytes() {
    let (_cache, plugin) = load(WasmOptions::default());
    assert_eq!(plugin.call("echo", b"hello").unwrap(), b"hello");
    assert_eq!(plugin.call("echo", b"").unwrap(), b"");
    let big = vec![7u8; 100_000];
    assert_eq!(plugin.call("echo", &big).unwrap(), big);
    assert!(plugin.function_exists("echo").unwrap());
    assert!(!plugin.function_exists("nope").unwrap());
    assert_eq!(
        plugin.call("nope", b"").unwrap_err().code,
        ErrorCode::Unsupported
    );
}

#[test]
fn an_endless_loop_times_out_and_the_next_call_works() {
    let (_cache, plugin) = load(short_timeout());
    let started = Instant::now();
    let err = plugin.call("spin", b"").unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.code, ErrorCode::PluginTimeout, "{err}");
    let timeout = short_timeout().sandbox.timeout.unwrap();
    assert!(took >= timeout && took < timeout + SLACK, "{took:?}");
    assert_eq!(plugin.call("echo", b"after").unwrap(), b"after");
}

#[test]
fn traps_are_typed_and_the_instance_is_rebuilt() {
    let (_cache, plugin) = load(WasmOptions::default());
    for function in ["unreachable", "overflow", "out_of_bounds"] {
        let err = plugin.call(function, b"").unwrap_err();
        assert_eq!(err.code, ErrorCode::PluginTrapped, "{function}: {err}");
        assert_eq!(plugin.call("echo", b"ok").unwrap(), b"ok");
    }
}

#[test]
fn growing_past_the_memory_cap_is_out_of_memory() {
    let (_cache, plugin) = load(sandboxed(Sandbox {
        max_pages: 64,
        ..Sandbox::default()
    }));
    let err = plugin.call("grow", b"").unwrap_err();
    assert_eq!(err.code, ErrorCode::PluginOutOfMemory, "{err}");
    assert_eq!(plugin.call("echo", b"ok").unwrap(), b"ok");
}

#[test]
fn a_cancelled_call_is_aborted_and_the_next_call_works() {
    let (_cache, plugin) = load(sandboxed(Sandbox {
        timeout: None,
        ..Sandbox::default()
    }));
    let plugin = Arc::new(plugin);
    let id = plugin.new_call();
    let runner = {
        let plugin = plugin.clone();
        std::thread::spawn(move || plugin.call_with(id, "spin", b"", |_| ()))
    };
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    plugin.cancel(id);
    let err = runner.join().unwrap().unwrap_err();
    assert_eq!(err.code, ErrorCode::Aborted, "{err}");
    // Without the cancel the call would spin forever (no timeout).
    assert!(started.elapsed() < SLACK, "{:?}", started.elapsed());
    assert_eq!(plugin.call("echo", b"next").unwrap(), b"next");
    // Cancelled before it starts: never runs.
    let id = plugin.new_call();
    plugin.cancel(id);
    assert_eq!(
        plugin.call_with(id, "echo", b"x", |_| ()).unwrap_err().code,
        ErrorCode::Aborted
    );
}

/// A cancel that reaches Extism's timer while the plugin is between calls (one that raced the
/// start of the call it meant) interrupts the next call as soon as it starts; Extism 1.41 dropped
/// it, and the call ran to its timeout (patches/extism-1.41.0-cancel-before-start.patch).
#[test]
fn a_cancel_that_raced_the_call_start_interrupts_it_as_it_starts() {
    let wasm = wat::parse_file(fixture()).unwrap();
    let manifest = extism::Manifest::new([extism::Wasm::data(wasm)]).with_timeout(SLACK * 6);
    let mut plugin = extism::Plugin::new(&manifest, [], false).unwrap();
    plugin.cancel_handle().cancel().unwrap();
    let started = Instant::now();
    let err = plugin.call::<&[u8], &[u8]>("spin", b"").unwrap_err();
    // The timeout (a minute) would have ended it otherwise.
    assert!(started.elapsed() < SLACK, "{err}: {:?}", started.elapsed());
    // Consumed by that call: a later cancel-free call is not interrupted.
    assert_eq!(plugin.call::<&[u8], &[u8]>("echo", b"x").unwrap(), b"x");
}

#[test]
fn one_instance_timing_out_does_not_stop_another() {
    let cache_dir = tempfile::tempdir().unwrap();
    let options = short_timeout();
    let slow = Arc::new(
        RawWasmPlugin::load_file(
            &fixture(),
            &options,
            ModuleCache::at(cache_dir.path()).unwrap(),
            &RawHost::default(),
        )
        .unwrap(),
    );
    let busy = Arc::new(
        RawWasmPlugin::load_file(
            &fixture(),
            &WasmOptions {
                sandbox: Sandbox {
                    timeout: None,
                    ..options.sandbox
                },
                ..options
            },
            ModuleCache::at(cache_dir.path()).unwrap(),
            &RawHost::default(),
        )
        .unwrap(),
    );
    // `busy` echoes a large input many times while `slow` times out next to it.
    let worker = {
        let busy = busy.clone();
        std::thread::spawn(move || {
            let input = vec![1u8; 200_000];
            (0..20)
                .map(|_| busy.call("echo", &input).map(|out| out.len()))
                .collect::<Vec<_>>()
        })
    };
    assert_eq!(
        slow.call("spin", b"").unwrap_err().code,
        ErrorCode::PluginTimeout
    );
    for result in worker.join().unwrap() {
        assert_eq!(result.unwrap(), 200_000);
    }
}

/// Extism's timer (patched: patches/extism-1.41.0-timer.patch) sleeps until the earliest deadline
/// it knows; a call with a nearer deadline must wake it, not wait for the far one.
#[test]
fn a_short_timeout_fires_while_a_long_one_is_pending() {
    let (_long_cache, long) = load(sandboxed(Sandbox {
        timeout: Some(Duration::from_secs(120)),
        ..Sandbox::default()
    }));
    let long = Arc::new(long);
    let id = long.new_call();
    let runner = {
        let long = long.clone();
        std::thread::spawn(move || long.call_with(id, "spin", b"", |_| ()))
    };
    std::thread::sleep(Duration::from_millis(100));
    // Calls that end well leave no deadline behind that could hold the short one up either.
    let (_cache, short) = load(short_timeout());
    for _ in 0..100 {
        assert_eq!(short.call("echo", b"x").unwrap(), b"x");
    }
    let started = Instant::now();
    let err = short.call("spin", b"").unwrap_err();
    assert_eq!(err.code, ErrorCode::PluginTimeout, "{err}");
    assert!(started.elapsed() < SLACK, "{:?}", started.elapsed());
    long.cancel(id);
    assert_eq!(runner.join().unwrap().unwrap_err().code, ErrorCode::Aborted);
}

#[test]
fn the_second_load_is_served_from_the_cache() {
    let cache_dir = tempfile::tempdir().unwrap();
    let first = RawWasmPlugin::load_file(
        &fixture(),
        &WasmOptions::default(),
        ModuleCache::at(cache_dir.path()).unwrap(),
        &RawHost::default(),
    )
    .unwrap();
    assert!(!first.compiled_from_cache());
    let second = RawWasmPlugin::load_file(
        &fixture(),
        &WasmOptions::default(),
        ModuleCache::at(cache_dir.path()).unwrap(),
        &RawHost::default(),
    )
    .unwrap();
    assert!(second.compiled_from_cache());
}

/// The compiled modules (wasmtime's entry files: no extension) under a cache folder.
fn cache_entries(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|entry| match entry.path() {
            path if path.is_dir() => cache_entries(&path),
            path if path.extension().is_none() => 1,
            _ => 0,
        })
        .sum()
}

#[test]
fn the_cache_lookup_and_extism_share_entries() {
    // The lookup that tells `compiled_from_cache` compiles with the engine settings Extism uses:
    // the plugin's instance then finds the module in the cache instead of compiling it again. A
    // drift in those settings would show as a third entry (Extism's kernel, the module twice).
    let cache_dir = tempfile::tempdir().unwrap();
    let plugin = RawWasmPlugin::load_file(
        &fixture(),
        &WasmOptions::default(),
        ModuleCache::at(cache_dir.path()).unwrap(),
        &RawHost::default(),
    )
    .unwrap();
    assert!(!plugin.compiled_from_cache());
    assert_eq!(cache_entries(&cache_dir.path().join("modules")), 2);
}

#[test]
fn the_kernel_memory_is_counted() {
    // hostile.wat starts at 1 page; Extism's kernel at 16. The limiter admits that start at
    // instantiation only if the growth budget (the cap minus the start) holds it: 34 pages is the
    // least cap that does. A larger kernel would make this instantiation fail.
    let cache_dir = tempfile::tempdir().unwrap();
    let options = |max_pages| {
        sandboxed(Sandbox {
            max_pages,
            ..Sandbox::default()
        })
    };
    let cache = || ModuleCache::at(cache_dir.path()).unwrap();
    let plugin =
        RawWasmPlugin::load_file(&fixture(), &options(34), cache(), &RawHost::default()).unwrap();
    assert_eq!(plugin.call("echo", b"fits").unwrap(), b"fits");
    let err = RawWasmPlugin::load_file(&fixture(), &options(33), cache(), &RawHost::default())
        .err()
        .unwrap();
    assert_eq!(err.code, ErrorCode::PluginLoadFailed);
}

#[test]
fn broken_modules_are_load_failures() {
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = || ModuleCache::at(cache_dir.path()).unwrap();
    let options = WasmOptions::default();
    for (bytes, reason) in [
        (Vec::new(), "empty"),
        (b"hello world".to_vec(), "not a Wasm module"),
        (b"\0asm\x01\0\0\0\x01\x05".to_vec(), "malformed"),
    ] {
        let err = RawWasmPlugin::load(bytes, &options, cache(), None, &RawHost::default())
            .err()
            .unwrap();
        assert_eq!(err.code, ErrorCode::PluginLoadFailed);
        assert!(err.to_string().contains(reason), "{err}");
    }
}
