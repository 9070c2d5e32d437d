//! `NativeLibrary`: one dlopen'ed plugin file, and the factory it exports.
use std::mem::ManuallyDrop;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use modelport_plugin::abi::{
    DESCRIPTOR_SYMBOL, DescriptorError, MP_ABI_VERSION, MP_ABI_VERSION_MIN, MP_ERROR, MP_OK,
    MP_OP_INFO, MP_PANIC, MpDescriptor, MpDescriptorFn, MpFactoryFn, MpInitLoggingFn, MpObject,
    MpOutput,
};
use modelport_plugin::wire::FactoryInfo;

use super::object::{PluginObject, Written};
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
    library: ManuallyDrop<libloading::Library>,
}

impl std::fmt::Debug for NativeLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeLibrary")
            .field("path", &self.path)
            .finish()
    }
}

/// Which factory a native plugin exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactoryKind {
    /// `plugin_http_factory`: the host performs HTTP.
    Http,
    /// `plugin_factory`: the plugin works asynchronously by itself.
    Async,
}

/// The factory a native plugin exports, and what it says of itself.
#[derive(Debug)]
pub struct NativeFactory {
    pub(crate) kind: FactoryKind,
    pub(crate) object: Arc<PluginObject>,
    pub(crate) info: FactoryInfo,
}

fn load_failed(path: &Path, reason: impl Into<String>) -> ModelportError {
    ModelportError::new(ErrorCode::PluginLoadFailed, reason).with_path(path)
}

impl NativeLibrary {
    /// The file it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The plugin's own version, from its ABI descriptor.
    pub fn plugin_version(&self) -> Option<&str> {
        self.plugin_version.as_deref()
    }

    /// Opens `path`, checks its ABI descriptor, hooks up its logging and calls its factory
    /// (`plugin_factory` first, then `plugin_http_factory`). Blocking: call off the async runtime.
    pub fn open(plugin: &str, path: &Path) -> Result<(Arc<NativeLibrary>, NativeFactory)> {
        let library = Self::load(plugin, path)?;
        let factory = call_factory(&library.library, plugin, path)?;
        Ok((Arc::new(library), factory))
    }

    /// Opens `path` like [`Self::open`] and calls its SDK factory (`plugin_sdk_factory`): a
    /// plugin of seed 004's other kinds.
    pub(crate) fn open_sdk(
        plugin: &str,
        path: &Path,
    ) -> Result<(Arc<NativeLibrary>, PluginObject)> {
        let library = Self::load(plugin, path)?;
        let name: Arc<str> = Arc::from(plugin);
        let factory = call_entry(&library.library, "plugin_sdk_factory", &name, path)
            .unwrap_or_else(|| {
                let has_provider = ["plugin_factory", "plugin_http_factory"]
                    .iter()
                    .any(|symbol| {
                        // SAFETY: only looked up, never called.
                        unsafe { library.library.get::<MpFactoryFn>(symbol.as_bytes()) }.is_ok()
                    });
                let what = if has_provider {
                    "it is a provider plugin (list it under [[providers]])"
                } else {
                    "it exports no plugin_sdk_factory"
                };
                Err(load_failed(path, format!("not an SDK plugin: {what}")).with_plugin(plugin))
            })?;
        Ok((Arc::new(library), factory))
    }

    /// Loads the library, checks its descriptor and hooks up its logging.
    fn load(plugin: &str, path: &Path) -> Result<NativeLibrary> {
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

        // SAFETY: the signature the ABI fixes for this symbol.
        if let Ok(init_logging) = unsafe { library.get::<MpInitLoggingFn>(b"plugin_init_logging") }
        {
            init_logging(host_logger::host_log, host_logger::host_max_level());
        }
        Ok(NativeLibrary {
            path: path.to_path_buf(),
            plugin_version,
            library: ManuallyDrop::new(library),
        })
    }
}

/// Reads and checks the ABI descriptor; returns the plugin's own version.
fn read_descriptor(library: &libloading::Library) -> Result<Option<String>> {
    let host_range = if MP_ABI_VERSION_MIN == MP_ABI_VERSION {
        format!("ABI version {MP_ABI_VERSION}")
    } else {
        format!("ABI versions {MP_ABI_VERSION_MIN} to {MP_ABI_VERSION}")
    };
    let mismatch = |what: String| ModelportError::new(ErrorCode::AbiMismatch, what);
    // SAFETY: the signature the ABI fixes for this symbol.
    let Ok(descriptor_fn) =
        (unsafe { library.get::<MpDescriptorFn>(DESCRIPTOR_SYMBOL.as_bytes()) })
    else {
        return Err(mismatch(format!(
            "the plugin exports no ABI descriptor ({DESCRIPTOR_SYMBOL}), so it declares no ABI \
             version; the host supports {host_range}"
        )));
    };
    let descriptor = descriptor_fn();
    if descriptor.is_null() {
        return Err(mismatch(format!(
            "the plugin's ABI descriptor is null, so it declares no ABI version; the host \
             supports {host_range}"
        )));
    }
    // SAFETY: non-null, from the descriptor symbol; `check` reads only plain fields, and the
    // strings are read only once the magic matched.
    let descriptor: &MpDescriptor = unsafe { &*descriptor };
    match descriptor.check() {
        Ok(()) => {}
        Err(DescriptorError::NotADescriptor) => {
            return Err(mismatch(format!(
                "the plugin's ABI descriptor does not start with modelport's magic number \
                 (found {:#x}); the host supports {host_range}",
                descriptor.magic
            )));
        }
        Err(DescriptorError::Version(version)) => {
            let built_with = if version == 0 {
                " (modelport-plugin 0.1's Rust-only ABI)".to_string()
            } else {
                unsafe { descriptor.built_with() }
                    .map(|text| format!(", built with {text}"))
                    .unwrap_or_default()
            };
            let advice = if version > MP_ABI_VERSION {
                "upgrade modelport to load it"
            } else {
                "rebuild it against a newer modelport-plugin"
            };
            return Err(mismatch(format!(
                "the plugin implements ABI version {version}{built_with}; the host supports \
                 {host_range} ({advice})"
            )));
        }
    }
    Ok(unsafe { descriptor.plugin_version() })
}

/// Calls the factory exported as `symbol`, if there is one, taking ownership of what it returns.
fn call_entry(
    library: &libloading::Library,
    symbol: &str,
    plugin: &Arc<str>,
    path: &Path,
) -> Option<Result<PluginObject>> {
    // SAFETY: the signature the ABI fixes for the factory symbols.
    let factory = unsafe { library.get::<MpFactoryFn>(symbol.as_bytes()) }.ok()?;
    let mut written = Written::default();
    let output = MpOutput {
        ctx: (&mut written as *mut Written).cast(),
        write: super::object::collect,
    };
    let mut made = MpObject::NONE;
    let status = factory(&output, &mut made);
    let made = PluginObject::adopt(made, plugin);
    Some(match (status, made) {
        (MP_OK, Some(object)) => Ok(object),
        (MP_OK, None) => {
            Err(load_failed(path, format!("{symbol} returned no factory")).with_plugin(&**plugin))
        }
        (MP_PANIC, _) => {
            let panic = serde_json::from_slice(&written.json).unwrap_or_else(|_| {
                modelport_plugin::panic_guard::PluginPanic {
                    message: String::from_utf8_lossy(&written.json).into_owned(),
                    location: None,
                }
            });
            Err(ModelportError::plugin_panicked(plugin, "its factory", panic).with_path(path))
        }
        (MP_ERROR, _) => Err(load_failed(
            path,
            format!(
                "{symbol} failed: {}",
                String::from_utf8_lossy(&written.json)
            ),
        )
        .with_plugin(&**plugin)),
        (other, _) => Err(
            load_failed(path, format!("{symbol} returned status {other}")).with_plugin(&**plugin),
        ),
    })
}

fn call_factory(library: &libloading::Library, plugin: &str, path: &Path) -> Result<NativeFactory> {
    let name: Arc<str> = Arc::from(plugin);
    let (kind, entry) = if let Some(entry) = call_entry(library, "plugin_factory", &name, path) {
        (FactoryKind::Async, entry)
    } else if let Some(entry) = call_entry(library, "plugin_http_factory", &name, path) {
        (FactoryKind::Http, entry)
    } else {
        // SAFETY: only looked up, never called.
        let sdk = unsafe { library.get::<MpFactoryFn>(b"plugin_sdk_factory") }.is_ok();
        let reason = if sdk {
            "the library is an SDK plugin (plugin_sdk_factory), not a provider: list it under [[plugins]] with its kind"
        } else {
            "the library exports neither plugin_factory nor plugin_http_factory"
        };
        return Err(load_failed(path, reason).with_plugin(plugin));
    };
    let object = entry?;
    let info = object
        .call_json::<FactoryInfo>("info", MP_OP_INFO, &[], &[])
        .map_err(|err| err.with_path(path))?;
    Ok(NativeFactory {
        kind,
        object: Arc::new(object),
        info,
    })
}
