//! `BindingRegistry`: the registry as JS sees it.
use std::path::PathBuf;

use modelport_core::{Registry, RegistryConfig};
use napi_derive::napi;
use serde_json::Value;

use crate::error::napi_result;
use crate::provider::BindingProvider;
use crate::types::call_options::BindingCallOptions;
use crate::types::options::object_of;

#[napi]
pub struct BindingRegistry {
    inner: Registry,
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

#[napi]
impl BindingRegistry {
    /// Reads a .toml / .json / .yaml / .yml config file.
    #[napi(factory)]
    pub fn from_file(path: String) -> napi::Result<Self> {
        napi_result(Registry::from_file(&PathBuf::from(path)).map(|inner| Self { inner }))
    }

    /// Uses an in-memory config; relative plugin paths resolve against `base_dir`.
    #[napi(factory)]
    pub fn from_config(config: Value, base_dir: String) -> napi::Result<Self> {
        let config = napi_result(RegistryConfig::from_value(config))?;
        Ok(Self {
            inner: Registry::from_config(config, PathBuf::from(base_dir)),
        })
    }

    /// Loads every plugin; returns one report per plugin.
    #[napi(ts_return_type = "Promise<Array<Record<string, unknown>>>")]
    pub async fn load_all(&self) -> napi::Result<Value> {
        let reports = self.inner.load_all().await;
        Ok(to_json(&reports))
    }

    /// The loaded plugins.
    #[napi(ts_return_type = "Array<Record<string, unknown>>")]
    pub fn list(&self) -> Value {
        to_json(&self.inner.list())
    }

    /// A loaded plugin's config JSON Schema.
    #[napi(ts_return_type = "Record<string, unknown>")]
    pub fn config_schema(&self, name: String) -> napi::Result<Value> {
        napi_result(self.inner.config_schema(&name))
    }

    /// The models a provider offers.
    #[napi]
    pub async fn list_models(
        &self,
        name: String,
        overrides: Option<Value>,
        options: Option<BindingCallOptions>,
    ) -> napi::Result<Vec<String>> {
        let overrides = object_of(overrides)?;
        let options = napi_result(options.unwrap_or_default().into_core(Vec::new()))?;
        napi_result(self.inner.list_models(&name, &overrides, &options).await)
    }

    /// Builds a provider with `overrides` (builder fields) merged into its config.
    #[napi]
    pub async fn build(
        &self,
        name: String,
        overrides: Option<Value>,
    ) -> napi::Result<BindingProvider> {
        let overrides = object_of(overrides)?;
        napi_result(self.inner.build(&name, &overrides).await).map(BindingProvider::new)
    }

    /// Aborts calls in flight and refuses new ones.
    #[napi]
    pub fn close(&self) {
        self.inner.close();
    }
}
