//! The registry config: which plugins to load, from where, with which settings.
mod file;
mod merge;
mod schema;

pub use file::{PluginEntry, PluginLocation, ProviderEntry, RegistryConfig};
pub use merge::merge_config;
pub use schema::ConfigSchema;
