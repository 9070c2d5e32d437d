//! `DeferredStartup`: a module's start-up code, moved from instantiation into ordinary calls so
//! that the call timeout bounds it.
//!
//! Extism runs a module's `start` function (at instantiation) and its `__wasm_call_ctors` or
//! `_initialize` export (right after) before it arms the call timer, so a plugin that loops in
//! start-up would hang its caller forever. Before compiling, the module is rewritten: the start
//! section is dropped and its function exported, and the initializer exports are renamed so
//! Extism does not find them. [`DeferredStartup::functions`] then names what to call, in order,
//! on each new instance: the same code Extism would have run, now under the timeout.
use std::ops::Range;

use wasm_encoder::{ExportKind, ExportSection, RawSection};
use wasmparser::{CompositeInnerType, ExternalKind, Parser, Payload, TypeRef};

use crate::error::{ErrorCode, ModelportError, Result};

/// Export name given to the module's start function.
const START_EXPORT: &str = "__modelport_start";
/// Initializer exports Extism would call, in its order of preference, and their new names.
const INITIALIZERS: [(&str, &str); 2] = [
    ("__wasm_call_ctors", "__modelport_wasm_call_ctors"),
    ("_initialize", "__modelport_initialize"),
];
/// Extism initializes Haskell modules (`hs_init`, with `_initialize` as reactor init) in its own
/// order; those modules are left untouched (their start-up is not bounded).
const HASKELL_INIT: &str = "hs_init";
/// Prefix of the names this rewrite adds; plugins may not call them directly.
pub const RESERVED_PREFIX: &str = "__modelport_";

const EXPORT_SECTION: u8 = 7;
const START_SECTION: u8 = 8;

/// The start-up functions of a rewritten module, to call in order on every new instance.
#[derive(Clone, Debug, Default)]
pub struct DeferredStartup {
    functions: Vec<&'static str>,
}

impl DeferredStartup {
    /// The exports to call, in order, before an instance's first call.
    pub fn functions(&self) -> &[&'static str] {
        &self.functions
    }
}

struct Export<'a> {
    name: &'a str,
    kind: ExternalKind,
    index: u32,
}

/// What the rewrite needs to know about a module.
struct Layout<'a> {
    sections: Vec<(u8, Range<usize>)>,
    exports: Vec<Export<'a>>,
    start: Option<u32>,
    /// For each function index, whether its type is `[] -> []`.
    function_is_nullary: Vec<bool>,
}

fn malformed(err: impl std::fmt::Display) -> ModelportError {
    ModelportError::new(ErrorCode::PluginLoadFailed, "the Wasm module is malformed").with_cause(err)
}

fn read_layout(bytes: &[u8]) -> Result<Layout<'_>> {
    let mut layout = Layout {
        sections: Vec::new(),
        exports: Vec::new(),
        start: None,
        function_is_nullary: Vec::new(),
    };
    let mut type_is_nullary = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(malformed)?;
        if let Some((id, range)) = payload.as_section() {
            layout
                .sections
                .push((id, range.start as usize..range.end as usize));
        }
        match payload {
            Payload::Version {
                encoding: wasmparser::Encoding::Component,
                ..
            } => {
                return Err(ModelportError::new(
                    ErrorCode::PluginLoadFailed,
                    "a Wasm component, not a core module: Extism plugins are core modules",
                ));
            }
            Payload::TypeSection(reader) => {
                for group in reader {
                    for sub in group.map_err(malformed)?.types() {
                        type_is_nullary.push(match &sub.composite_type.inner {
                            CompositeInnerType::Func(func) => {
                                func.params().is_empty() && func.results().is_empty()
                            }
                            _ => false,
                        });
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    if let TypeRef::Func(ty) | TypeRef::FuncExact(ty) =
                        import.map_err(malformed)?.ty
                    {
                        let nullary = type_is_nullary.get(ty as usize).copied().unwrap_or(false);
                        layout.function_is_nullary.push(nullary);
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader {
                    let ty = ty.map_err(malformed)?;
                    let nullary = type_is_nullary.get(ty as usize).copied().unwrap_or(false);
                    layout.function_is_nullary.push(nullary);
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(malformed)?;
                    layout.exports.push(Export {
                        name: export.name,
                        kind: export.kind,
                        index: export.index,
                    });
                }
            }
            Payload::StartSection { func, .. } => layout.start = Some(func),
            _ => {}
        }
    }
    Ok(layout)
}

fn export_kind(kind: ExternalKind) -> ExportKind {
    match kind {
        ExternalKind::Func | ExternalKind::FuncExact => ExportKind::Func,
        ExternalKind::Table => ExportKind::Table,
        ExternalKind::Memory => ExportKind::Memory,
        ExternalKind::Global => ExportKind::Global,
        ExternalKind::Tag => ExportKind::Tag,
    }
}

/// The initializer Extism would call (its exact rule: `__wasm_call_ctors` if exported, and only
/// if `[] -> []`; otherwise `_initialize` if `[] -> []`), by its new name.
fn chosen_initializer(layout: &Layout<'_>) -> Option<&'static str> {
    let (found, renamed) = INITIALIZERS.iter().find_map(|(name, renamed)| {
        layout
            .exports
            .iter()
            .find(|export| export.name == *name && export.kind == ExternalKind::Func)
            .map(|export| (export, *renamed))
    })?;
    let nullary = layout
        .function_is_nullary
        .get(found.index as usize)
        .copied()
        .unwrap_or(false);
    nullary.then_some(renamed)
}

/// Rewrites `bytes` (binary Wasm or WAT text) so its start-up runs as ordinary calls, and says
/// which. A module without start-up code comes back unchanged (as binary).
pub fn defer_startup(bytes: Vec<u8>) -> Result<(Vec<u8>, DeferredStartup)> {
    let bytes = match wat::parse_bytes(&bytes).map_err(malformed)? {
        std::borrow::Cow::Borrowed(_) => bytes,
        std::borrow::Cow::Owned(binary) => binary,
    };
    let layout = read_layout(&bytes)?;
    if let Some(reserved) = layout
        .exports
        .iter()
        .find(|export| export.name.starts_with(RESERVED_PREFIX))
    {
        return Err(ModelportError::new(
            ErrorCode::PluginLoadFailed,
            format!(
                "the module exports {:?}: names starting with {RESERVED_PREFIX} are reserved for the host",
                reserved.name
            ),
        ));
    }
    let haskell = layout
        .exports
        .iter()
        .any(|export| export.name == HASKELL_INIT);
    let has_initializer = layout
        .exports
        .iter()
        .any(|export| INITIALIZERS.iter().any(|(name, _)| export.name == *name));
    if haskell || (layout.start.is_none() && !has_initializer) {
        return Ok((bytes, DeferredStartup::default()));
    }
    let initializer = chosen_initializer(&layout);

    let mut exports = ExportSection::new();
    for export in &layout.exports {
        let name = INITIALIZERS
            .iter()
            .find(|(name, _)| export.name == *name)
            .map_or(export.name, |(_, renamed)| renamed);
        exports.export(name, export_kind(export.kind), export.index);
    }
    if let Some(start) = layout.start {
        exports.export(START_EXPORT, ExportKind::Func, start);
    }
    let has_export_section = layout.sections.iter().any(|(id, _)| *id == EXPORT_SECTION);
    let mut module = wasm_encoder::Module::new();
    for (id, range) in &layout.sections {
        match *id {
            EXPORT_SECTION => {
                module.section(&exports);
            }
            // The start section sits after the export section; a module without exports gets
            // its new export section in the start section's place.
            START_SECTION if !has_export_section => {
                module.section(&exports);
            }
            START_SECTION => {}
            id => {
                module.section(&RawSection {
                    id,
                    data: &bytes[range.clone()],
                });
            }
        }
    }
    let functions = layout
        .start
        .map(|_| START_EXPORT)
        .into_iter()
        .chain(initializer)
        .collect();
    Ok((module.finish(), DeferredStartup { functions }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exports_of(bytes: &[u8]) -> Vec<String> {
        read_layout(bytes)
            .unwrap()
            .exports
            .iter()
            .map(|export| export.name.to_string())
            .collect()
    }

    #[test]
    fn a_module_without_startup_is_unchanged() {
        let wat = br#"(module (func (export "run") (result i32) (i32.const 0)))"#;
        let (bytes, startup) = defer_startup(wat.to_vec()).unwrap();
        assert_eq!(bytes, wat::parse_bytes(wat).unwrap().into_owned());
        assert!(startup.functions().is_empty());
    }

    #[test]
    fn the_start_function_becomes_an_export_called_first() {
        let wat = br#"(module (func $s) (start $s) (func (export "_initialize")))"#;
        let (bytes, startup) = defer_startup(wat.to_vec()).unwrap();
        wasmparser::validate(&bytes).unwrap();
        assert!(read_layout(&bytes).unwrap().start.is_none());
        assert_eq!(
            exports_of(&bytes),
            ["__modelport_initialize", "__modelport_start"]
        );
        assert_eq!(
            startup.functions(),
            ["__modelport_start", "__modelport_initialize"]
        );
    }

    #[test]
    fn extism_s_choice_of_initializer_is_kept() {
        // `__wasm_call_ctors` wins over `_initialize`; both are renamed so neither runs early.
        let wat = br#"(module (func (export "_initialize")) (func (export "__wasm_call_ctors")))"#;
        let (bytes, startup) = defer_startup(wat.to_vec()).unwrap();
        assert_eq!(
            exports_of(&bytes),
            ["__modelport_initialize", "__modelport_wasm_call_ctors"]
        );
        assert_eq!(startup.functions(), ["__modelport_wasm_call_ctors"]);

        // An initializer Extism would skip (not `[] -> []`) is not called.
        let wat = br#"(module (func (export "_initialize") (param i32)))"#;
        let (_, startup) = defer_startup(wat.to_vec()).unwrap();
        assert!(startup.functions().is_empty());
    }

    #[test]
    fn a_start_function_without_an_export_section_gets_one() {
        let wat = br#"(module (import "env" "f" (func)) (func $s) (start $s))"#;
        let (bytes, startup) = defer_startup(wat.to_vec()).unwrap();
        wasmparser::validate(&bytes).unwrap();
        assert_eq!(exports_of(&bytes), ["__modelport_start"]);
        assert_eq!(startup.functions(), ["__modelport_start"]);
    }

    #[test]
    fn reserved_names_and_garbage_are_load_failures() {
        let wat = br#"(module (func (export "__modelport_start")))"#;
        let err = defer_startup(wat.to_vec()).unwrap_err();
        assert_eq!(err.code, ErrorCode::PluginLoadFailed);
        assert!(err.message.contains("reserved"), "{}", err.message);

        let err = defer_startup(b"\0asm\x01\0\0\0\x07\xff".to_vec()).unwrap_err();
        assert_eq!(err.code, ErrorCode::PluginLoadFailed);
    }
}
