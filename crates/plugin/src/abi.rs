//! The ABI descriptor: what a plugin was built with, read by the host *before* it calls any
//! plugin code. Trait objects cross the boundary, so host and plugin must agree on the SDK, the
//! compiler and the memory layout of every shared type.
use std::ffi::{CStr, c_char};
use std::mem::{align_of, size_of};

use crate::boundary::{
    FactoryBoundary, HttpFactoryBoundary, HttpProviderBoundary, ProviderBoundary,
    StreamParserBoundary,
};
use crate::error::PluginError;
use crate::http_provider::{HttpRequest, HttpResponse};
use crate::message::{ChatMessage, Content};
use crate::panic_guard::{Guarded, PluginPanic};
use crate::response::{ChatResponse, CompletionRequest, CompletionResponse, Usage};
use crate::stream::StreamChunk;
use crate::tool::{Tool, ToolCall};

/// The symbol a plugin exports its descriptor under (`extern "C" fn() -> *const AbiDescriptor`).
pub const ABI_DESCRIPTOR_SYMBOL: &str = "modelport_abi_descriptor";
/// First field of every descriptor: `"MDLPORT1"`, to tell a descriptor from random memory.
pub const ABI_MAGIC: u64 = u64::from_le_bytes(*b"MDLPORT1");
/// Version of the descriptor struct itself.
pub const DESCRIPTOR_VERSION: u32 = 1;
/// This SDK's version.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");
/// `rustc --version` of the compiler that built this SDK.
pub const RUSTC_VERSION: &str = env!("MODELPORT_RUSTC_VERSION");

/// What a plugin was built with. `#[repr(C)]` and made of C types only, so any host can read it.
#[repr(C)]
#[derive(Debug)]
pub struct AbiDescriptor {
    /// Always [`ABI_MAGIC`].
    pub magic: u64,
    /// Always [`DESCRIPTOR_VERSION`] for this layout.
    pub descriptor_version: u32,
    /// NUL-terminated SDK version.
    pub sdk_version: *const c_char,
    /// NUL-terminated `rustc --version`.
    pub rustc_version: *const c_char,
    /// [`LAYOUT_FINGERPRINT`] of the SDK the plugin was built with.
    pub layout_fingerprint: u64,
    /// NUL-terminated version of the plugin crate itself, or null.
    pub plugin_version: *const c_char,
}

// SAFETY: the pointers refer to immutable, 'static, NUL-terminated strings.
unsafe impl Sync for AbiDescriptor {}

impl AbiDescriptor {
    /// The descriptor of this SDK build.
    pub const CURRENT: AbiDescriptor = AbiDescriptor {
        magic: ABI_MAGIC,
        descriptor_version: DESCRIPTOR_VERSION,
        sdk_version: concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast(),
        rustc_version: concat!(env!("MODELPORT_RUSTC_VERSION"), "\0")
            .as_ptr()
            .cast(),
        layout_fingerprint: LAYOUT_FINGERPRINT,
        plugin_version: std::ptr::null(),
    };

    /// The SDK version as text.
    ///
    /// # Safety
    /// `sdk_version` must point to a NUL-terminated string (true of every descriptor built by
    /// this SDK; the host checks `magic` first).
    pub unsafe fn sdk_version_str(&self) -> String {
        unsafe { c_text(self.sdk_version) }
    }

    /// The rustc version as text.
    ///
    /// # Safety
    /// As for [`Self::sdk_version_str`].
    pub unsafe fn rustc_version_str(&self) -> String {
        unsafe { c_text(self.rustc_version) }
    }
}

unsafe fn c_text(ptr: *const c_char) -> String {
    if ptr.is_null() {
        return "<null>".into();
    }
    unsafe { CStr::from_ptr(ptr) }
        .to_string_lossy()
        .into_owned()
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

const fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(FNV_PRIME);
        i += 1;
    }
    hash
}

const fn mix(hash: u64, value: usize) -> u64 {
    fnv1a(hash, &(value as u64).to_le_bytes())
}

/// Hash of the shared types' definitions (their source text) and of the size and alignment of
/// every type that crosses the boundary, including the foreign ones (`serde_json::Value`, whose
/// size changes with its `preserve_order` feature, and `http::Request`).
pub const LAYOUT_FINGERPRINT: u64 = {
    let mut h = FNV_OFFSET;
    h = fnv1a(h, include_str!("message.rs").as_bytes());
    h = fnv1a(h, include_str!("tool.rs").as_bytes());
    h = fnv1a(h, include_str!("response.rs").as_bytes());
    h = fnv1a(h, include_str!("stream.rs").as_bytes());
    h = fnv1a(h, include_str!("error.rs").as_bytes());
    h = fnv1a(h, include_str!("http_provider.rs").as_bytes());
    h = fnv1a(h, include_str!("provider.rs").as_bytes());
    h = fnv1a(h, include_str!("boundary.rs").as_bytes());
    h = fnv1a(h, include_str!("panic_guard.rs").as_bytes());
    macro_rules! layout {
        ($($t:ty),* $(,)?) => {
            $( h = mix(h, size_of::<$t>()); h = mix(h, align_of::<$t>()); )*
        };
    }
    layout!(
        ChatMessage, Content, Tool, ToolCall, ChatResponse, Usage, StreamChunk, CompletionRequest,
        CompletionResponse, PluginError, PluginPanic, HttpRequest, HttpResponse, http::HeaderMap,
        serde_json::Value, serde_json::Map<String, serde_json::Value>, String, Vec<u8>,
        Guarded<Result<ChatResponse, PluginError>>, Guarded<Box<dyn HttpFactoryBoundary>>,
        Guarded<Box<dyn FactoryBoundary>>, Box<dyn HttpProviderBoundary>,
        Box<dyn ProviderBoundary>, Box<dyn StreamParserBoundary>,
    );
    h
};

/// Why a plugin's descriptor does not match the host's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbiMismatch {
    /// Which property differs: `sdk_version`, `rustc_version`, `layout_fingerprint`, `descriptor`.
    pub field: &'static str,
    /// The host's value.
    pub host: String,
    /// The plugin's value.
    pub plugin: String,
}

impl std::fmt::Display for AbiMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} differs: host has {}, plugin has {}",
            self.field, self.host, self.plugin
        )
    }
}

/// Compares a plugin's descriptor with this (the host's) SDK build.
///
/// # Safety
/// `plugin` must point to a readable descriptor-sized region (the host got it from the plugin's
/// descriptor symbol).
pub unsafe fn check_descriptor(plugin: &AbiDescriptor) -> Result<(), AbiMismatch> {
    if plugin.magic != ABI_MAGIC || plugin.descriptor_version != DESCRIPTOR_VERSION {
        return Err(AbiMismatch {
            field: "descriptor",
            host: format!("magic {ABI_MAGIC:#x} version {DESCRIPTOR_VERSION}"),
            plugin: format!(
                "magic {:#x} version {}",
                plugin.magic, plugin.descriptor_version
            ),
        });
    }
    let sdk = unsafe { plugin.sdk_version_str() };
    if sdk != SDK_VERSION {
        return Err(AbiMismatch {
            field: "sdk_version",
            host: SDK_VERSION.into(),
            plugin: sdk,
        });
    }
    let rustc = unsafe { plugin.rustc_version_str() };
    if rustc != RUSTC_VERSION {
        return Err(AbiMismatch {
            field: "rustc_version",
            host: RUSTC_VERSION.into(),
            plugin: rustc,
        });
    }
    if plugin.layout_fingerprint != LAYOUT_FINGERPRINT {
        return Err(AbiMismatch {
            field: "layout_fingerprint",
            host: format!("{LAYOUT_FINGERPRINT:#018x}"),
            plugin: format!("{:#018x}", plugin.layout_fingerprint),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_descriptor_matches_itself() {
        assert_eq!(unsafe { check_descriptor(&AbiDescriptor::CURRENT) }, Ok(()));
    }

    #[test]
    fn another_sdk_version_is_named_on_both_sides() {
        let other = AbiDescriptor {
            sdk_version: c"9.9.9".as_ptr(),
            ..AbiDescriptor::CURRENT
        };
        let mismatch = unsafe { check_descriptor(&other) }.unwrap_err();
        assert_eq!(mismatch.field, "sdk_version");
        assert_eq!(mismatch.host, SDK_VERSION);
        assert_eq!(mismatch.plugin, "9.9.9");
    }

    #[test]
    fn another_layout_is_refused() {
        let other = AbiDescriptor {
            layout_fingerprint: LAYOUT_FINGERPRINT ^ 1,
            ..AbiDescriptor::CURRENT
        };
        assert_eq!(
            unsafe { check_descriptor(&other) }.unwrap_err().field,
            "layout_fingerprint"
        );
    }

    #[test]
    fn garbage_is_not_a_descriptor() {
        let other = AbiDescriptor {
            magic: 0,
            ..AbiDescriptor::CURRENT
        };
        assert_eq!(
            unsafe { check_descriptor(&other) }.unwrap_err().field,
            "descriptor"
        );
    }
}
