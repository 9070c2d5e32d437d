//! Catching panics inside plugin code.
//!
//! A plugin statically links its own copy of Rust's std, and a panic raised by one copy cannot be
//! caught by another (it is a "foreign exception" and aborts). So every entry point of the C ABI
//! (`export.rs`: factories, calls, task polls, releases) catches panics here, with the plugin's
//! own std, and hands them to the host as a plain [`PluginPanic`] (`MP_PANIC`).
use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

/// A panic caught inside plugin code: its message and, when known, where it happened. On the
/// ABI: `{"message":"…","location":"file:line:col"}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PluginPanic {
    /// The panic message.
    pub message: String,
    /// `file:line:column` of the panic, when the panic hook saw it.
    #[serde(default)]
    pub location: Option<String>,
}

impl std::fmt::Display for PluginPanic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.location {
            Some(location) => write!(f, "{} (at {location})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The result of a call into plugin code: `Err` when the plugin panicked.
pub type Guarded<T> = Result<T, PluginPanic>;

thread_local! {
    static LAST_PANIC_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs (once per plugin library) a panic hook that records where a panic happened and logs
/// it through the plugin's logger instead of printing it.
pub(crate) fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let location = info
                .location()
                .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
            log::error!("plugin panicked: {info}");
            LAST_PANIC_LOCATION.with(|slot| *slot.borrow_mut() = location);
        }));
    });
}

fn panic_from_payload(payload: Box<dyn std::any::Any + Send>) -> PluginPanic {
    let message = if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "panic with a non-string payload".to_string()
    };
    let location = LAST_PANIC_LOCATION.with(|slot| slot.borrow_mut().take());
    // Dropping the payload runs plugin code too; a panicking destructor must not escape.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
    PluginPanic { message, location }
}

/// Runs `f`, turning a panic into `Err(PluginPanic)`.
pub fn guard<T>(f: impl FnOnce() -> T) -> Guarded<T> {
    catch_unwind(AssertUnwindSafe(f)).map_err(panic_from_payload)
}

/// Drops `value` with panics contained (a plugin's `Drop` may panic too).
pub fn guarded_drop<T>(value: T) {
    if let Err(panic) = guard(move || drop(value)) {
        log::error!("plugin panicked while being dropped: {panic}");
    }
}
