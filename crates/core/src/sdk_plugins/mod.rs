//! Plugins of seed 004's other kinds (embedder, vector backend, tool executor) whatever runs them:
//! one typed layer ([`SdkPlugin`], [`SdkFactory`]) over a runtime's transport — the C ABI's
//! operations for native libraries, JSON exports for Extism (Wasm) modules. The JSON is the SDK's
//! wire types (`modelport_plugin::sdk_plugin::wire`) in both.
mod plugin;
mod transport;
mod vector_backend;

pub use plugin::{SdkFactory, SdkPlugin};
pub use transport::{SdkFactoryTransport, SdkOp, SdkTransport};
pub use vector_backend::SdkVectorBackend;
