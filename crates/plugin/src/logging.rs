//! Plugin-side logging: `log` records forwarded to the host through `plugin_init_logging`.
use std::ffi::CString;

use crate::abi::MpLogFn;

struct HostLogger {
    callback: MpLogFn,
}

fn c_string(text: &str) -> CString {
    CString::new(text.replace('\0', "\u{FFFD}")).expect("NULs were replaced")
}

impl log::Log for HostLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let target = c_string(record.target());
            let message = c_string(&record.args().to_string());
            (self.callback)(record.level() as u32, target.as_ptr(), message.as_ptr());
        }
    }

    fn flush(&self) {}
}

/// Installs the host's callback as this plugin's `log` sink, at most `max_level` (0 = off).
pub fn init_logging(callback: MpLogFn, max_level: u32) {
    let filter = match max_level {
        0 => log::LevelFilter::Off,
        1 => log::LevelFilter::Error,
        2 => log::LevelFilter::Warn,
        3 => log::LevelFilter::Info,
        4 => log::LevelFilter::Debug,
        _ => log::LevelFilter::Trace,
    };
    // A second call (the host loading the same library again) keeps the first logger.
    let _ = log::set_boxed_logger(Box::new(HostLogger { callback }));
    log::set_max_level(filter);
}
