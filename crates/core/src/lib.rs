//! # modelport-core
//!
//! The pure-Rust core of modelport (no Node-API here): config files, the plugin registry, the
//! native plugin loader and the HTTP engine every plugin's requests go through.

mod backend;
pub mod call;
pub mod call_params;
pub mod config;
pub mod error;
pub mod external;
mod host_http;
pub mod http;
pub mod manifest;
pub mod native;
pub mod plugin;
pub mod provider;
pub mod registry;
pub mod retry;
pub mod sdk_plugins;
pub mod stream;
pub mod vectors;
pub mod wasm;

pub use call::CallOptions;
pub use call_params::{CallParams, ResponseFormat};
pub use config::{ProviderEntry, RegistryConfig};
pub use error::{ErrorCode, ModelportError, Result};
pub use manifest::{PluginManifest, PluginType, SDK_VERSION, SdkVersionRange};
pub use modelport_plugin as sdk;
pub use plugin::{LoadedPlugin, PluginInfo, PluginKind};
pub use provider::{Capabilities, Health, Provider};
pub use registry::{LoadReport, Registry};
pub use stream::ChatStream;
