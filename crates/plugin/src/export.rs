//! The exported entry points: factory symbols, the ABI descriptor and the logging hook.
//! Plugin authors use the macros; the functions are what the macros expand to.
use std::ffi::c_void;

use crate::boundary::{FactoryBoundary, FactoryGuard, HttpFactoryBoundary, HttpFactoryGuard};
use crate::http_provider::HTTPLLMProviderFactory;
use crate::panic_guard::{Guarded, guard, install_panic_hook};
use crate::provider::LLMProviderFactory;

/// What `plugin_http_factory` points to: a `Box` of this, owned by the host from then on.
pub type HttpFactoryEntry = Guarded<Box<dyn HttpFactoryBoundary>>;
/// What `plugin_factory` points to: a `Box` of this, owned by the host from then on.
pub type FactoryEntry = Guarded<Box<dyn FactoryBoundary>>;

/// Body of `plugin_http_factory`: builds the factory with panics contained.
pub fn http_factory_entry<F: HTTPLLMProviderFactory + 'static>(
    make: impl FnOnce() -> F,
) -> *mut c_void {
    install_panic_hook();
    let entry: HttpFactoryEntry =
        guard(|| Box::new(HttpFactoryGuard::new(Box::new(make()))) as Box<dyn HttpFactoryBoundary>);
    Box::into_raw(Box::new(entry)).cast()
}

/// Body of `plugin_factory`: builds the factory with panics contained.
pub fn factory_entry<F: LLMProviderFactory + 'static>(make: impl FnOnce() -> F) -> *mut c_void {
    install_panic_hook();
    let entry: FactoryEntry =
        guard(|| Box::new(FactoryGuard::new(Box::new(make()))) as Box<dyn FactoryBoundary>);
    Box::into_raw(Box::new(entry)).cast()
}

/// Exports an HTTP provider plugin: `export_http_plugin!(MyFactory::default());`
#[macro_export]
macro_rules! export_http_plugin {
    ($make:expr) => {
        /// modelport HTTP factory entry point.
        #[unsafe(no_mangle)]
        pub extern "C" fn plugin_http_factory() -> *mut ::core::ffi::c_void {
            $crate::export::http_factory_entry(|| $make)
        }
        $crate::export_abi_descriptor!();
        $crate::export_logging!();
    };
}

/// Exports a non-HTTP (async) provider plugin: `export_plugin!(MyFactory::default());`
#[macro_export]
macro_rules! export_plugin {
    ($make:expr) => {
        /// modelport factory entry point.
        #[unsafe(no_mangle)]
        pub extern "C" fn plugin_factory() -> *mut ::core::ffi::c_void {
            $crate::export::factory_entry(|| $make)
        }
        $crate::export_abi_descriptor!();
        $crate::export_logging!();
    };
}

/// Exports this SDK build's ABI descriptor (the export macros include it).
#[macro_export]
macro_rules! export_abi_descriptor {
    () => {
        /// modelport ABI descriptor.
        #[unsafe(no_mangle)]
        pub extern "C" fn modelport_abi_descriptor() -> *const $crate::abi::AbiDescriptor {
            static DESCRIPTOR: $crate::abi::AbiDescriptor = $crate::abi::AbiDescriptor {
                plugin_version: concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast(),
                ..$crate::abi::AbiDescriptor::CURRENT
            };
            &DESCRIPTOR
        }
    };
}

/// Exports `plugin_init_logging`, forwarding `log` records to the host (the export macros include it).
#[macro_export]
macro_rules! export_logging {
    () => {
        /// modelport logging hook.
        #[unsafe(no_mangle)]
        pub extern "C" fn plugin_init_logging(
            callback: $crate::logging::HostLogCallback,
            max_level: usize,
        ) {
            $crate::logging::init_logging(callback, max_level)
        }
    };
}
