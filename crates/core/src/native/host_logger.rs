//! The C callback native plugins log through (`plugin_init_logging`), forwarding to `log`.
use std::ffi::{CStr, c_char};

/// Receives a plugin's log record and re-emits it under the `modelport::plugin` target.
pub extern "C" fn host_log(level: u32, target: *const c_char, message: *const c_char) {
    // A panic must not unwind out of an extern "C" fn; logging is best effort.
    let _ = std::panic::catch_unwind(|| {
        let text = |ptr: *const c_char| {
            if ptr.is_null() {
                String::new()
            } else {
                unsafe { CStr::from_ptr(ptr) }
                    .to_string_lossy()
                    .into_owned()
            }
        };
        let level = match level {
            1 => log::Level::Error,
            2 => log::Level::Warn,
            3 => log::Level::Info,
            4 => log::Level::Debug,
            _ => log::Level::Trace,
        };
        log::log!(target: "modelport::plugin", level, "[{}] {}", text(target), text(message));
    });
}

/// The level to offer plugins: the host's current `log` maximum, as 0 (off) … 5 (trace).
pub fn host_max_level() -> u32 {
    log::max_level() as u32
}
