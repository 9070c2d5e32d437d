//! The native runtime of SDK plugins (embedder, vector backend, tool executor): a library's
//! `plugin_sdk_factory`, its C ABI operations as the transport of [`crate::sdk_plugins`]. An
//! operation may finish at once or hand back a task the host polls; dropping the call releases
//! (cancels) the task.
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use modelport_plugin::abi::{MP_OP_INIT, MP_OP_MANIFEST};
use serde_json::Value;

use super::library::NativeLibrary;
use super::object::PluginObject;
use crate::error::Result;
use crate::sdk_plugins::{SdkFactory, SdkFactoryTransport, SdkOp, SdkTransport};

/// A native SDK plugin's factory object, and its library.
struct NativeSdkFactory {
    object: Arc<PluginObject>,
    library: Arc<NativeLibrary>,
}

/// Loads the native SDK plugin at `path` (registered as `name`) and checks its manifest.
/// Blocking.
pub fn open_native_sdk_plugin(name: &str, path: &Path) -> Result<SdkFactory> {
    let (library, object) = NativeLibrary::open_sdk(name, path)?;
    SdkFactory::new(
        Box::new(NativeSdkFactory {
            object: Arc::new(object),
            library,
        }),
        path,
    )
}

impl SdkFactoryTransport for NativeSdkFactory {
    fn manifest(&self) -> Result<Value> {
        let written = self
            .object
            .call_sync("manifest", MP_OP_MANIFEST, &[], &[])?;
        self.object.read("manifest", &written.json)
    }

    fn init(&self, config: &Value) -> Result<Box<dyn SdkTransport>> {
        let text = serde_json::to_vec(config).expect("JSON values serialize");
        let object = self.object.call_make("init", MP_OP_INIT, &text)?;
        Ok(Box::new(NativeSdkTransport {
            object,
            _factory: self.object.clone(),
            _library: self.library.clone(),
        }))
    }
}

/// A configured native SDK plugin. Field order: the plugin is released before its factory.
struct NativeSdkTransport {
    object: PluginObject,
    _factory: Arc<PluginObject>,
    _library: Arc<NativeLibrary>,
}

#[async_trait]
impl SdkTransport for NativeSdkTransport {
    fn plugin(&self) -> &str {
        self.object.plugin()
    }

    async fn call(&self, op: SdkOp, input: Vec<u8>) -> Result<Option<Vec<u8>>> {
        self.object
            .call_async(op.method(), op.native(), &input, None)
            .await
    }

    fn call_sync(&self, op: SdkOp, input: &[u8]) -> Result<Option<Vec<u8>>> {
        self.object
            .call_sync(op.method(), op.native(), input, &[])
            .map(|written| Some(written.json))
    }
}
