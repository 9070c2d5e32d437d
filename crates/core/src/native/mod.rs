//! Native plugins: shared libraries loaded with dlopen, checked by ABI descriptor, called only
//! through the SDK's panic-guarded boundary.
mod async_plugin;
mod crash_report;
mod elf;
mod host_logger;
mod http_plugin;
mod library;

pub(crate) use async_plugin::NativeAsync;
pub(crate) use http_plugin::NativeHttp;
pub use library::{NativeFactory, NativeLibrary};

use modelport_plugin::PluginError;
use modelport_plugin::panic_guard::Guarded;

use crate::error::{ModelportError, Result};

/// Turns the outcome of one guarded plugin call into a host result.
pub fn unguard<T>(
    plugin: &str,
    operation: &str,
    outcome: Guarded<Result<T, PluginError>>,
) -> Result<T> {
    match outcome {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(ModelportError::from_plugin_error(plugin, err)),
        Err(panic) => Err(ModelportError::plugin_panicked(plugin, operation, panic)),
    }
}

/// Like [`unguard`] for plugin calls that cannot fail other than by panicking.
pub fn unguard_value<T>(plugin: &str, operation: &str, outcome: Guarded<T>) -> Result<T> {
    outcome.map_err(|panic| ModelportError::plugin_panicked(plugin, operation, panic))
}
