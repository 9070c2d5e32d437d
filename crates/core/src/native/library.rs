//! `NativeLibrary`: one dlopen'ed plugin file, and the factory it exports.
use std::ffi::c_void;
use std::mem::ManuallyDrop;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use modelport_plugin::abi::{
    ABI_DESCRIPTOR_SYMBOL, AbiDescriptor, RUSTC_VERSION, SDK_VERSION, check_descriptor,
};
use modelport_plugin::boundary::{FactoryBoundary, HttpFactoryBoundary};
use modelport_plugin::logging::HostLogCallback;
use modelport_plugin::panic_guard::Guarded;

use super::{elf, host_logger};
use crate::error::{ErrorCode, ModelportError, Result};

/// A loaded plugin library. Everything that came from it holds an `Arc` to it.
///
/// The library is never unloaded (dlclose), even when the last `Arc` goes: plugins may leave
/// threads (timers, runtimes) or thread-local destructors behind, and unmapping their code would
/// crash the process later. The cost is one mapping per distinct plugin file.
pub struct NativeLibrary {
    path: PathBuf,
    plugin_version: Option<String>,
    _library: ManuallyDrop<libloading::Library>,
}

impl std::fmt::Debug for NativeLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeLibrary")
            .field("path", &self.path)
            .finish()
    }
}

/// The factory a native plugin exports.
pub enum NativeFactory {
    /// `plugin_http_factory`: the host performs HTTP.
    Http(Arc<dyn HttpFactoryBoundary>),
    /// `plugin_factory`: the plugin works asynchronously by itself.
    Async(Arc<dyn FactoryBoundary>),
}

fn load_failed(path: &Path, reason: impl Into<String>) -> ModelportError {
    ModelportError::new(ErrorCode::PluginLoadFailed, reason).with_path(path)
}

impl NativeLibrary {
    /// The file it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The plugin crate's version, from its ABI descriptor.
    pub fn plugin_version(&self) -> Option<&str> {
        self.plugin_version.as_deref()
    }

    /// Opens `path`, checks its ABI descriptor, hooks up its logging and calls its factory
    /// (`plugin_factory` first, then `plugin_http_factory`). Blocking: call off the async runtime.
    pub fn open(plugin: &str, path: &Path) -> Result<(Arc<NativeLibrary>, NativeFactory)> {
        let fail = |reason: String| load_failed(path, reason).with_plugin(plugin);
        if !path.exists() {
            return Err(fail("file not found".into()));
        }
        if let Some(reason) = elf::precheck(path) {
            return Err(fail(reason));
        }
        // SAFETY: loading runs the library's initialisers; that is the trust a user places in a
        // native plugin by configuring it (see the README's security model).
        let library = unsafe { libloading::Library::new(path) }
            .map_err(|err| fail("the dynamic loader refused it".into()).with_cause(err))?;
        super::crash_report::register(plugin, path);

        let plugin_version =
            read_descriptor(&library).map_err(|err| err.with_plugin(plugin).with_path(path))?;

        // SAFETY: the signature is fixed by the SDK whose descriptor we just matched.
        if let Ok(init_logging) =
            unsafe { library.get::<extern "C" fn(HostLogCallback, usize)>(b"plugin_init_logging") }
        {
            init_logging(host_logger::host_log, host_logger::host_max_level());
        }

        let factory = call_factory(&library, plugin, path)?;
        let native = NativeLibrary {
            path: path.to_path_buf(),
            plugin_version,
            _library: ManuallyDrop::new(library),
        };
        Ok((Arc::new(native), factory))
    }
}

/// Reads and checks the ABI descriptor; returns the plugin's own version.
fn read_descriptor(library: &libloading::Library) -> Result<Option<String>> {
    let host_side = format!("host: modelport-plugin {SDK_VERSION}, {RUSTC_VERSION}");
    // SAFETY: a plain `extern "C" fn() -> *const AbiDescriptor`, as the SDK exports it.
    let symbol = unsafe {
        library.get::<extern "C" fn() -> *const AbiDescriptor>(ABI_DESCRIPTOR_SYMBOL.as_bytes())
    };
    let Ok(descriptor_fn) = symbol else {
        return Err(ModelportError::new(
            ErrorCode::AbiMismatch,
            format!(
                "the plugin exports no ABI descriptor ({ABI_DESCRIPTOR_SYMBOL}); it was not built with \
                 modelport-plugin's export macros ({host_side}; plugin: none)"
            ),
        ));
    };
    let descriptor = descriptor_fn();
    if descriptor.is_null() {
        return Err(ModelportError::new(
            ErrorCode::AbiMismatch,
            format!("the plugin's ABI descriptor is null ({host_side}; plugin: none)"),
        ));
    }
    // SAFETY: non-null, from the descriptor symbol; `check_descriptor` verifies the magic
    // before following any pointer in it.
    let descriptor = unsafe { &*descriptor };
    unsafe { check_descriptor(descriptor) }.map_err(|mismatch| {
        ModelportError::new(
            ErrorCode::AbiMismatch,
            format!(
                "the plugin was built against another modelport ABI: {mismatch} \
                 (rebuild the plugin with modelport-plugin {SDK_VERSION} and {RUSTC_VERSION})"
            ),
        )
    })?;
    let version = (!descriptor.plugin_version.is_null()).then(|| {
        unsafe { std::ffi::CStr::from_ptr(descriptor.plugin_version) }
            .to_string_lossy()
            .into_owned()
    });
    Ok(version)
}

/// Calls the factory exported as `symbol`, if there is one, taking ownership of what it returns.
fn call_entry<B: ?Sized>(
    library: &libloading::Library,
    symbol: &str,
    plugin: &str,
    path: &Path,
) -> Option<Result<Box<B>>> {
    // SAFETY: the SDK's factory signature, guaranteed by the matched descriptor.
    let factory =
        unsafe { library.get::<extern "C" fn() -> *mut c_void>(symbol.as_bytes()) }.ok()?;
    let raw = factory();
    if raw.is_null() {
        return Some(Err(
            load_failed(path, format!("{symbol} returned null")).with_plugin(plugin)
        ));
    }
    // SAFETY: a non-null factory result is a `Box<Guarded<Box<B>>>` whose ownership passes to us.
    let entry = unsafe { Box::from_raw(raw.cast::<Guarded<Box<B>>>()) };
    Some((*entry).map_err(|panic| {
        ModelportError::plugin_panicked(plugin, "its factory", panic).with_path(path)
    }))
}

fn call_factory(library: &libloading::Library, plugin: &str, path: &Path) -> Result<NativeFactory> {
    if let Some(entry) = call_entry::<dyn FactoryBoundary>(library, "plugin_factory", plugin, path)
    {
        return entry.map(|factory| NativeFactory::Async(Arc::from(factory)));
    }
    if let Some(entry) =
        call_entry::<dyn HttpFactoryBoundary>(library, "plugin_http_factory", plugin, path)
    {
        return entry.map(|factory| NativeFactory::Http(Arc::from(factory)));
    }
    Err(load_failed(
        path,
        "the library exports neither plugin_factory nor plugin_http_factory",
    )
    .with_plugin(plugin))
}
