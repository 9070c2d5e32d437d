//! The sandbox settings of a Wasm plugin, deny-by-default.
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Default time a single call may run.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default memory cap: 1,024 Wasm pages of 64 KiB = 64 MiB.
pub const DEFAULT_MAX_PAGES: u32 = 1024;

/// The one sandbox-settings type, for raw plugins and providers alike: what a Wasm plugin may do
/// and use. The defaults allow no host, no path, no WASI.
#[derive(Debug, Clone, PartialEq)]
pub struct Sandbox {
    /// Hosts the plugin may reach through the host's HTTP functions (for a provider: besides its
    /// configured `base_url`); empty = none.
    pub allowed_hosts: Vec<String>,
    /// Host directories granted to the plugin (WASI only): host path → guest path, writable; a
    /// host path prefixed `ro:` is read-only (extism ≥ 1.31's read-only WASI permissions).
    pub allowed_paths: BTreeMap<String, PathBuf>,
    /// Longest a call may run; `None` = no limit.
    pub timeout: Option<Duration>,
    /// Largest linear memory, in 64 KiB pages.
    pub max_pages: u32,
    /// Whether the plugin gets WASI (clock, random, granted files); off by default.
    pub wasi: bool,
}

impl Sandbox {
    /// The largest input a call may hand the plugin: its memory cap, in bytes.
    pub fn max_input_bytes(&self) -> u64 {
        u64::from(self.max_pages) * 65_536
    }

    /// A call timeout from milliseconds as configured: absent → the default, `0` → no limit.
    pub fn timeout_from_ms(ms: Option<u64>) -> Option<Duration> {
        match ms {
            None => Some(DEFAULT_TIMEOUT),
            Some(0) => None,
            Some(ms) => Some(Duration::from_millis(ms)),
        }
    }
}

impl Default for Sandbox {
    fn default() -> Self {
        Self {
            allowed_hosts: Vec::new(),
            allowed_paths: BTreeMap::new(),
            timeout: Some(DEFAULT_TIMEOUT),
            max_pages: DEFAULT_MAX_PAGES,
            wasi: false,
        }
    }
}

/// A raw plugin's settings: its sandbox, and the Extism config it reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WasmOptions {
    /// Extism config: the only key/value data the plugin can read (`config_get`).
    pub config: BTreeMap<String, String>,
    /// What it may do and use.
    pub sandbox: Sandbox,
    /// Largest HTTP response body `http_request` accepts (default: the engine's, 64 MiB).
    pub max_http_response_bytes: Option<u64>,
    /// Most bytes its vars may hold together (default: Extism's, 1 MiB).
    pub max_var_bytes: Option<u64>,
    /// The sha256 (hex) the module's bytes must have, as an Extism manifest's `hash`.
    pub module_sha256: Option<String>,
    /// Whether the plugin's WASI stdout and stderr go to the process's own (else they are
    /// discarded); needs `sandbox.wasi`.
    pub wasi_output: bool,
}
