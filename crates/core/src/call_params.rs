//! A call's own settings ([`CallParams`], the SDK's type: one shape from TypeScript to the
//! native ABI) laid over the config of a plugin whose protocol carries them only there
//! (QueryMT's Wasm plugins), checked against the plugin's config schema.
use serde_json::{Map, Value};

pub use modelport_plugin::{CallParams, ResponseFormat};

use crate::config::ConfigSchema;
use crate::error::{ModelportError, Result};

/// `config` with `params` laid over it under QueryMT's keys; a setting whose key `schema` lacks
/// is `UNSUPPORTED`, naming it.
pub(crate) fn overlay(
    params: &CallParams,
    config: Map<String, Value>,
    schema: &ConfigSchema,
    plugin: &str,
) -> Result<Map<String, Value>> {
    params
        .overlay(config, |key| schema.has_property(key))
        .map_err(|err| ModelportError::from_plugin_error(plugin, err))
}
