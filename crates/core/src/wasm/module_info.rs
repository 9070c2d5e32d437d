//! What a module declares (its exports and imports, `getExports`/`getImports`), and the check
//! of its bytes against the sha256 an Extism manifest names.
use sha2::{Digest, Sha256};
use wasmparser::{ExternalKind, Parser, Payload, TypeRef};

use crate::error::{ErrorCode, ModelportError, Result};

/// One export or import of a module: WebAssembly's `ModuleExportDescriptor` /
/// `ModuleImportDescriptor` (`module` is empty for an export).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleItem {
    pub module: String,
    pub name: String,
    /// `function`, `table`, `memory`, `global` or `tag`.
    pub kind: &'static str,
}

/// A module's exports and imports, as the module declares them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleInfo {
    pub exports: Vec<ModuleItem>,
    pub imports: Vec<ModuleItem>,
}

fn export_kind(kind: ExternalKind) -> &'static str {
    match kind {
        ExternalKind::Func | ExternalKind::FuncExact => "function",
        ExternalKind::Table => "table",
        ExternalKind::Memory => "memory",
        ExternalKind::Global => "global",
        ExternalKind::Tag => "tag",
    }
}

fn import_kind(ty: TypeRef) -> &'static str {
    match ty {
        TypeRef::Func(_) | TypeRef::FuncExact(_) => "function",
        TypeRef::Table(_) => "table",
        TypeRef::Memory(_) => "memory",
        TypeRef::Global(_) => "global",
        TypeRef::Tag(_) => "tag",
    }
}

impl ModuleInfo {
    /// Reads a binary module's export and import sections (empty for one that cannot be read:
    /// compiling it tells what is wrong).
    pub fn read(bytes: &[u8]) -> Self {
        let mut info = Self::default();
        for payload in Parser::new(0).parse_all(bytes) {
            match payload {
                Ok(Payload::ImportSection(section)) => {
                    for import in section.into_imports().flatten() {
                        info.imports.push(ModuleItem {
                            module: import.module.to_string(),
                            name: import.name.to_string(),
                            kind: import_kind(import.ty),
                        });
                    }
                }
                Ok(Payload::ExportSection(section)) => {
                    for export in section.into_iter().flatten() {
                        info.exports.push(ModuleItem {
                            module: String::new(),
                            name: export.name.to_string(),
                            kind: export_kind(export.kind),
                        });
                    }
                }
                Ok(Payload::CodeSectionStart { .. }) | Err(_) => break,
                Ok(_) => {}
            }
        }
        info
    }
}

/// Checks `bytes` against the lowercase or uppercase hex sha256 `expected`.
pub fn check_sha256(bytes: &[u8], expected: &str) -> Result<()> {
    let actual = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    if actual.eq_ignore_ascii_case(expected.trim()) {
        return Ok(());
    }
    Err(ModelportError::new(
        ErrorCode::PluginLoadFailed,
        format!(
            "the Wasm module's sha256 is {actual}, not the manifest's {}: refused before compiling",
            expected.trim()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_in_either_case_and_refuses_otherwise() {
        // sha256("abc")
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        check_sha256(b"abc", abc).unwrap();
        check_sha256(b"abc", &abc.to_uppercase()).unwrap();
        let err = check_sha256(b"abd", abc).unwrap_err();
        assert_eq!(err.code, ErrorCode::PluginLoadFailed);
        assert!(err.message.contains(abc));
    }

    #[test]
    fn exports_and_imports_are_read_with_their_kinds() {
        let bytes = wat::parse_str(
            r#"(module
                (import "extism:host/user" "f" (func (param i64) (result i64)))
                (import "env" "m" (memory 1))
                (func (export "run") (result i32) i32.const 0)
                (global (export "g") i32 (i32.const 1)))"#,
        )
        .unwrap();
        let info = ModuleInfo::read(&bytes);
        let pairs = |items: &[ModuleItem]| {
            items
                .iter()
                .map(|i| (i.module.clone(), i.name.clone(), i.kind))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            pairs(&info.imports),
            [
                ("extism:host/user".into(), "f".into(), "function"),
                ("env".into(), "m".into(), "memory")
            ]
        );
        assert_eq!(
            pairs(&info.exports),
            [
                (String::new(), "run".into(), "function"),
                (String::new(), "g".into(), "global")
            ]
        );
    }
}
