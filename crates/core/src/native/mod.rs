//! Native plugins: shared libraries loaded with dlopen, checked by ABI version, called only
//! through the C ABI of `modelport_plugin::abi`.
mod async_plugin;
mod crash_report;
mod elf;
mod host_logger;
mod http_plugin;
mod library;
mod object;
mod sdk_plugin;

pub(crate) use async_plugin::NativeAsync;
pub(crate) use http_plugin::NativeHttp;
pub use library::{FactoryKind, NativeFactory, NativeLibrary};
pub use sdk_plugin::open_native_sdk_plugin;
