//! The modelport native plugin ABI: plain C, versioned, the same for plugins written in Rust
//! (through this SDK's export macros), C, C++, Zig or Go. `include/modelport_plugin.h` is
//! generated from this file by cbindgen.
//!
//! # Symbols
//! A plugin library exports `modelport_abi_descriptor` (a [`MpDescriptor`]: the ABI version it
//! was written for) and one factory symbol, [`MpFactoryFn`]: `plugin_http_factory` (an HTTP
//! provider: it builds requests and parses responses, the host does every HTTP exchange),
//! `plugin_factory` (a provider that does its own work) or `plugin_sdk_factory` (a plugin of seed
//! 004's other kinds — embedder, vector backend, tool executor — with a manifest). Optionally `plugin_init_logging`
//! ([`MpInitLoggingFn`]). The host reads the descriptor before it calls anything else and refuses
//! a version outside [`MP_ABI_VERSION_MIN`]..=[`MP_ABI_VERSION`] (`ABI_MISMATCH`, naming both).
//! Nothing else is compared: not the compiler, not the SDK, not the allocator.
//!
//! # Objects and calls
//! Everything a plugin hands out (factory, provider, stream parser, pending task) is an
//! [`MpObject`]: an opaque pointer, one `call` function that dispatches on an operation code
//! (`MP_OP_*`) and a `release` function. An operation an object does not know returns
//! [`MP_UNSUPPORTED`]. The host calls an object from one thread at a time per call, but may call
//! a factory or provider from several threads at once (they must be thread-safe); a stream parser
//! or task is only ever called by one thread at a time.
//!
//! # Data and memory
//! Inputs are borrowed ([`MpInput`]: JSON text and raw body bytes), valid during the call only.
//! Outputs are written through the host's [`MpOutput`] callback, which copies them: every buffer
//! is freed by the side that allocated it, so host and plugin may use different allocators.
//! JSON shapes are those of this SDK's serde types (`ChatMessage`, `Tool`, `ChatResponse`,
//! `StreamChunk`, `PluginError`, …), which are QueryMT's; HTTP heads are
//! `{"method","url","headers":[[name,value],…]}` (requests) and `{"status","headers"}` (responses)
//! with the body as raw bytes beside them. The README's "Writing a native plugin" lists each
//! operation's input and output.
//!
//! # Failures
//! A call returns an `MP_*` status. [`MP_ERROR`]: the JSON output is a `PluginError`
//! (`{"type":"invalid_request","message":"…"}`). [`MP_PANIC`]: the plugin caught a panic (or a C++
//! exception) at its entry point; the JSON output is `{"message","location"}`. Unwinding across
//! the boundary is never allowed.
//!
//! # Asynchronous work
//! Operations of a `plugin_factory` provider (chat, stream, embed, …) may finish at once
//! ([`MP_OK`] with the result written) or return [`MP_PENDING`] with a task object in `made`.
//! The host then calls the task's [`MP_OP_POLL`] whenever the task's waker fires (the
//! [`MpWaker`] in the input of the first call and of every poll; it stays valid until the host
//! releases the task), until the poll returns a final status. A stream writes its events
//! ([`MP_PART_EVENT`], one `StreamChunk` JSON each) during the calls and polls, and ends with
//! [`MP_OK`]. Releasing a task cancels it: the plugin stops the work and must not call the waker
//! after `release` returns.
use std::ffi::{CStr, c_char, c_void};

/// The ABI version this SDK implements (and the newest the host accepts).
pub const MP_ABI_VERSION: u32 = 1;
/// The oldest plugin ABI version the host accepts.
pub const MP_ABI_VERSION_MIN: u32 = 1;
/// First field of every descriptor: the bytes `"MDLPORT2"`, read as a little-endian u64.
pub const MP_DESCRIPTOR_MAGIC: u64 = 0x3254_524F_504C_444D;
/// The magic of the descriptors of modelport-plugin 0.1's Rust-only ABI (trait objects crossed,
/// host and plugin had to share the rustc): ABI version 0, recognised only to be refused.
pub const MP_LEGACY_DESCRIPTOR_MAGIC: u64 = 0x3154_524F_504C_444D;

/// Call status: done, output written.
pub const MP_OK: i32 = 0;
/// Call status: failed; the JSON output is a `PluginError`.
pub const MP_ERROR: i32 = 1;
/// Call status: the plugin caught a panic; the JSON output is `{"message","location"}`.
pub const MP_PANIC: i32 = 2;
/// Call status: not finished; `made` holds a task to poll (asynchronous operations only).
pub const MP_PENDING: i32 = 3;
/// Call status: this object does not implement the operation.
pub const MP_UNSUPPORTED: i32 = 4;

/// Output part: the JSON result (or error).
pub const MP_PART_JSON: u32 = 0;
/// Output part: raw body bytes (an HTTP request's body).
pub const MP_PART_BODY: u32 = 1;
/// Output part: one stream event, a whole `StreamChunk` JSON per write.
pub const MP_PART_EVENT: u32 = 2;

/// Factory: `{"name","api_key_name","config_schema","supports_custom_models"}` (no input).
pub const MP_OP_INFO: u32 = 1;
/// Factory: the config (JSON) → a provider object in `made`.
pub const MP_OP_FROM_CONFIG: u32 = 2;
/// HTTP factory: the config → a JSON array of model names, or `null` (ask by request).
pub const MP_OP_LIST_MODELS_STATIC: u32 = 3;
/// HTTP factory: the config → the HTTP request that lists models.
pub const MP_OP_LIST_MODELS_REQUEST: u32 = 4;
/// HTTP factory: the response to that request → a JSON array of model names.
pub const MP_OP_PARSE_LIST_MODELS: u32 = 5;
/// Factory of `plugin_factory`: the config → a JSON array of model names (may be pending).
pub const MP_OP_LIST_MODELS: u32 = 6;

/// HTTP provider: `{"messages","tools","params","stream"}` → the chat request.
pub const MP_OP_CHAT_REQUEST: u32 = 10;
/// HTTP provider: a 2xx response → a `ChatResponse`.
pub const MP_OP_PARSE_CHAT: u32 = 11;
/// HTTP provider: → `true` if it streams (`MP_OP_CHAT_REQUEST` with `"stream":true`, a parser).
/// Provider of `plugin_factory` (optional): → `true` if `MP_OP_CHAT_STREAM` streams.
pub const MP_OP_SUPPORTS_STREAMING: u32 = 12;
/// HTTP provider: → a fresh stream parser object in `made`.
pub const MP_OP_STREAM_PARSER: u32 = 13;
/// HTTP provider: a non-2xx response → a `PluginError`, or `null` to let the host classify it.
pub const MP_OP_CLASSIFY_ERROR: u32 = 14;
/// HTTP provider: `{"inputs":[…]}` → the embedding request.
pub const MP_OP_EMBED_REQUEST: u32 = 15;
/// HTTP provider: its response → `[[f32…]…]`, one vector per input.
pub const MP_OP_PARSE_EMBED: u32 = 16;
/// HTTP provider: a `CompletionRequest` → the completion request.
pub const MP_OP_COMPLETE_REQUEST: u32 = 17;
/// HTTP provider: its response → a `CompletionResponse`.
pub const MP_OP_PARSE_COMPLETE: u32 = 18;
/// HTTP provider: an `SttRequest` → the transcription request.
pub const MP_OP_TRANSCRIBE_REQUEST: u32 = 19;
/// HTTP provider: its response → an `SttResponse`.
pub const MP_OP_PARSE_TRANSCRIBE: u32 = 20;
/// HTTP provider: a `TtsRequest` → the speech request.
pub const MP_OP_SPEECH_REQUEST: u32 = 21;
/// HTTP provider: its response → a `TtsResponse`.
pub const MP_OP_PARSE_SPEECH: u32 = 22;

/// Stream parser: body = one or more complete lines, each ending in `\n` → events.
pub const MP_OP_PARSE_LINES: u32 = 30;
/// Stream parser: the body ended → its last events; an incomplete answer is an error.
pub const MP_OP_FINISH: u32 = 31;

/// Provider of `plugin_factory`: `{"messages","tools","params"}` → a `ChatResponse`.
pub const MP_OP_CHAT: u32 = 40;
/// Provider of `plugin_factory`: `{"messages","tools","params"}` → events; `MP_UNSUPPORTED`
/// makes the host tell the whole answer of `MP_OP_CHAT` as events instead.
pub const MP_OP_CHAT_STREAM: u32 = 41;
/// Provider of `plugin_factory`: `{"inputs":[…]}` → `[[f32…]…]`.
pub const MP_OP_EMBED: u32 = 42;
/// Provider of `plugin_factory`: a `CompletionRequest` → a `CompletionResponse`.
pub const MP_OP_COMPLETE: u32 = 43;
/// Provider of `plugin_factory`: an `SttRequest` → an `SttResponse`.
pub const MP_OP_TRANSCRIBE: u32 = 44;
/// Provider of `plugin_factory`: a `TtsRequest` → a `TtsResponse`.
pub const MP_OP_SPEECH: u32 = 45;

/// Task: make progress; writes events and returns `MP_PENDING`, or finishes.
pub const MP_OP_POLL: u32 = 50;

/// SDK factory (`plugin_sdk_factory`): JSON → the plugin's manifest (seed 004's
/// `PluginManifest`: `name`, `type`, `sdkVersion`, `version`, `description`, `configSchema`).
pub const MP_OP_MANIFEST: u32 = 60;
/// SDK factory: JSON config → `made` (the plugin, of the manifest's `type`).
pub const MP_OP_INIT: u32 = 61;
/// SDK plugin, async: → JSON `{"healthy","message"?,"details"?}`.
pub const MP_OP_HEALTH_CHECK: u32 = 62;
/// SDK plugin, async: releases what it holds (before the host releases the object).
pub const MP_OP_SHUTDOWN: u32 = 63;
/// Embedder: → JSON number, the dimensions of its vectors.
pub const MP_OP_EMBEDDER_DIMS: u32 = 64;
/// Embedder, async: JSON `{"texts":[…]}` → JSON `[[number…]…]`, one vector per text.
pub const MP_OP_EMBED_TEXTS: u32 = 65;
/// Vector backend, async: JSON `{"repoId","items":[{"id","vector","metadata"?,"content"?}]}`.
pub const MP_OP_VECTOR_UPSERT: u32 = 66;
/// Vector backend, async: JSON `{"repoId","vector","topK","filter"?}` → JSON
/// `[{"id","score","metadata","content"?}]`, best first.
pub const MP_OP_VECTOR_QUERY: u32 = 67;
/// Vector backend, async: JSON `{"repoId","ids":[…]}`.
pub const MP_OP_VECTOR_DELETE: u32 = 68;
/// Vector backend, async: JSON `{"repoId"}`.
pub const MP_OP_VECTOR_WIPE: u32 = 69;
/// Vector backend: → JSON `{"backend","dims","embedderId","location","supportsFilters"}`.
pub const MP_OP_VECTOR_INFO: u32 = 70;
/// Tool executor, async: JSON `{"request":ToolRunRequest,"policy":ToolPolicy}` → JSON
/// `{"exitCode","durationMs","stdoutPath","stderrPath","truncated","signal"?}`.
pub const MP_OP_TOOL_EXECUTE: u32 = 71;
/// Tool executor: JSON `{"command","policy"}` → JSON boolean.
pub const MP_OP_TOOL_IS_ALLOWED: u32 = 72;

/// Borrowed bytes: valid during the call they are passed to.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MpBytes {
    /// May be null when `len` is 0.
    pub ptr: *const u8,
    pub len: usize,
}

impl MpBytes {
    /// Borrows `bytes`.
    pub fn of(bytes: &[u8]) -> MpBytes {
        MpBytes {
            ptr: bytes.as_ptr(),
            len: bytes.len(),
        }
    }

    /// The bytes.
    ///
    /// # Safety
    /// `ptr` must point to `len` readable bytes for the lifetime `'a` (or `len` be 0).
    pub unsafe fn as_slice<'a>(self) -> &'a [u8] {
        if self.len == 0 || self.ptr.is_null() {
            &[]
        } else {
            unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
        }
    }
}

/// Asks the host to poll a task again. Callable from any thread, any number of times, until the
/// host releases the task.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MpWaker {
    pub ctx: *mut c_void,
    pub wake: Option<extern "C" fn(ctx: *mut c_void)>,
}

// SAFETY: the host's waker is thread-safe by contract (see above).
unsafe impl Send for MpWaker {}
unsafe impl Sync for MpWaker {}

/// What a call reads.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MpInput {
    /// The operation's JSON input (UTF-8), empty if it takes none.
    pub json: MpBytes,
    /// Raw bytes: an HTTP response's body, or a stream's lines.
    pub body: MpBytes,
    /// For asynchronous operations and polls: the task's waker. Zeroed otherwise.
    pub waker: MpWaker,
}

/// Where a call writes its output: `write(ctx, part, data, len)` appends `data` to `part`
/// (`MP_PART_*`) and copies it. Valid only until the call returns, and only on the thread that
/// made the call. A non-zero return means the host wants no more (an event it could not read):
/// stop and return.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MpOutput {
    pub ctx: *mut c_void,
    pub write: extern "C" fn(ctx: *mut c_void, part: u32, data: *const u8, len: usize) -> i32,
}

/// An object a plugin hands out. `call` and `release` receive `self_`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MpObject {
    pub self_: *mut c_void,
    /// Runs operation `op`; returns an `MP_*` status. Objects it creates go to `made` (owned by
    /// the host from then on, released through their own `release`).
    pub call: Option<
        extern "C" fn(
            self_: *mut c_void,
            op: u32,
            input: *const MpInput,
            output: *const MpOutput,
            made: *mut MpObject,
        ) -> i32,
    >,
    /// Frees the object (and cancels it, for a task). Called once, never concurrently with `call`.
    pub release: Option<extern "C" fn(self_: *mut c_void)>,
}

// SAFETY: the ABI requires factories and providers to be thread-safe; parsers and tasks are
// called by one thread at a time, which `&mut` access on the host side guarantees.
unsafe impl Send for MpObject {}
unsafe impl Sync for MpObject {}

impl MpObject {
    /// An empty slot for `made`.
    pub const NONE: MpObject = MpObject {
        self_: std::ptr::null_mut(),
        call: None,
        release: None,
    };
}

/// What a plugin was written for. `#[repr(C)]`, C types only.
#[repr(C)]
#[derive(Debug)]
pub struct MpDescriptor {
    /// Always [`MP_DESCRIPTOR_MAGIC`].
    pub magic: u64,
    /// The ABI version the plugin implements.
    pub abi_version: u32,
    /// NUL-terminated version of the plugin itself, or null.
    pub plugin_version: *const c_char,
    /// NUL-terminated name and version of what built it (e.g. `"modelport-plugin 0.1.0"`,
    /// `"C"`), or null. Informational only.
    pub built_with: *const c_char,
}

// SAFETY: the pointers refer to immutable, 'static, NUL-terminated strings.
unsafe impl Sync for MpDescriptor {}

/// `modelport_abi_descriptor`: returns the plugin's static descriptor.
pub type MpDescriptorFn = extern "C" fn() -> *const MpDescriptor;
/// `plugin_http_factory` / `plugin_factory`: writes the factory to `factory` and returns an
/// `MP_*` status (`MP_ERROR`/`MP_PANIC` write their JSON to `output`).
pub type MpFactoryFn = extern "C" fn(output: *const MpOutput, factory: *mut MpObject) -> i32;
/// The host's log sink: `(level 1=error … 5=trace, target, message)`, NUL-terminated UTF-8.
pub type MpLogFn = extern "C" fn(level: u32, target: *const c_char, message: *const c_char);
/// `plugin_init_logging`: hands the plugin the host's log sink and the most verbose level it
/// wants (0 = off).
pub type MpInitLoggingFn = extern "C" fn(log: MpLogFn, max_level: u32);

/// The symbol of the descriptor function.
pub const DESCRIPTOR_SYMBOL: &str = "modelport_abi_descriptor";

/// Why a descriptor is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DescriptorError {
    /// The first field is not [`MP_DESCRIPTOR_MAGIC`]: not a modelport descriptor.
    NotADescriptor,
    /// An ABI version outside the host's range.
    Version(u32),
}

impl MpDescriptor {
    /// The descriptor of a plugin built with this SDK (`plugin_version` filled in by the macro).
    pub const CURRENT: MpDescriptor = MpDescriptor {
        magic: MP_DESCRIPTOR_MAGIC,
        abi_version: MP_ABI_VERSION,
        plugin_version: std::ptr::null(),
        built_with: concat!("modelport-plugin ", env!("CARGO_PKG_VERSION"), "\0")
            .as_ptr()
            .cast(),
    };

    /// Checks the magic and the version against the host's range.
    pub fn check(&self) -> Result<(), DescriptorError> {
        if self.magic == MP_LEGACY_DESCRIPTOR_MAGIC {
            // The rest of a legacy descriptor has another layout: nothing more is read.
            return Err(DescriptorError::Version(0));
        }
        if self.magic != MP_DESCRIPTOR_MAGIC {
            return Err(DescriptorError::NotADescriptor);
        }
        if !(MP_ABI_VERSION_MIN..=MP_ABI_VERSION).contains(&self.abi_version) {
            return Err(DescriptorError::Version(self.abi_version));
        }
        Ok(())
    }

    /// `plugin_version` as text.
    ///
    /// # Safety
    /// The pointer must be null or point to a NUL-terminated string.
    pub unsafe fn plugin_version(&self) -> Option<String> {
        unsafe { c_text(self.plugin_version) }
    }

    /// `built_with` as text.
    ///
    /// # Safety
    /// As for [`Self::plugin_version`].
    pub unsafe fn built_with(&self) -> Option<String> {
        unsafe { c_text(self.built_with) }
    }
}

unsafe fn c_text(ptr: *const c_char) -> Option<String> {
    (!ptr.is_null()).then(|| {
        unsafe { CStr::from_ptr(ptr) }
            .to_string_lossy()
            .into_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_magic_numbers_spell_their_names() {
        assert_eq!(MP_DESCRIPTOR_MAGIC, u64::from_le_bytes(*b"MDLPORT2"));
        assert_eq!(MP_LEGACY_DESCRIPTOR_MAGIC, u64::from_le_bytes(*b"MDLPORT1"));
    }

    #[test]
    fn the_current_descriptor_is_accepted() {
        assert_eq!(MpDescriptor::CURRENT.check(), Ok(()));
    }

    #[test]
    fn versions_outside_the_range_are_refused() {
        for version in [MP_ABI_VERSION_MIN - 1, MP_ABI_VERSION + 1] {
            let other = MpDescriptor {
                abi_version: version,
                ..MpDescriptor::CURRENT
            };
            assert_eq!(other.check(), Err(DescriptorError::Version(version)));
        }
    }

    #[test]
    fn a_legacy_descriptor_is_version_0() {
        let legacy = MpDescriptor {
            magic: MP_LEGACY_DESCRIPTOR_MAGIC,
            ..MpDescriptor::CURRENT
        };
        assert_eq!(legacy.check(), Err(DescriptorError::Version(0)));
    }

    #[test]
    fn garbage_is_not_a_descriptor() {
        let other = MpDescriptor {
            magic: 0,
            ..MpDescriptor::CURRENT
        };
        assert_eq!(other.check(), Err(DescriptorError::NotADescriptor));
    }
}
