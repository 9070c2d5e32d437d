//! `bound_limits`: gives every memory and table a module defines a maximum, and counts what they
//! hold from the start against the instance's memory cap.
//!
//! Extism 1.30's memory limiter charges the memories' initial sizes at instantiation, then starts
//! counting afresh, so only growth after instantiation is bounded; and it lets a table without a
//! maximum grow to 2³² elements. A module declaring `(memory 1000)` reached twice a 1024-page
//! cap, and one growing a table used gigabytes of host memory under any cap. Before compiling,
//! the module's memory and table sections are rewritten: each memory's maximum becomes at most
//! the cap, each table's at most its declared maximum (its initial size when it declares none,
//! [`MAX_TABLE_ELEMENTS`] at most). The budget Extism's limiter is given is the cap minus what
//! the instance holds from the start (its memories, its tables' references, Extism's kernel
//! memory), so start plus growth stays within the cap. The limiter must also admit the start
//! itself at instantiation: a module whose start is more than half its cap cannot be bounded
//! this way and is refused, naming the cap it needs.
use wasm_encoder::reencode::{Error as ReencodeError, Reencode};
use wasm_encoder::{MemorySection, RawSection, TableSection};
use wasmparser::{Parser, Payload};

use crate::error::{ErrorCode, ModelportError, Result};

/// Bytes in a Wasm page.
const PAGE: u64 = 65_536;
/// Host bytes counted per table element (a reference).
const TABLE_ELEMENT_BYTES: u64 = 8;
/// Most elements a table may hold, whatever it declares.
pub const MAX_TABLE_ELEMENTS: u64 = 1 << 20;
/// The initial memory of Extism 1.30's kernel module (its I/O buffers), in pages: part of every
/// instance (`the_kernel_memory_is_counted` in tests/wasm_raw.rs checks it).
const KERNEL_PAGES: u64 = 16;

/// A module with bounded memories and tables, and what is left of the cap for memory growth.
pub struct BoundedModule {
    pub bytes: Vec<u8>,
    /// Pages the module's memories may still grow by, together (Extism's limiter).
    pub growth_pages: u32,
}

/// The rewrite of memory and table types; counts what they reserve.
struct Bounds {
    cap_pages: u64,
    initial_pages: u64,
    table_bytes: u64,
}

impl Reencode for Bounds {
    type Error = String;

    fn memory_type(
        &mut self,
        ty: wasmparser::MemoryType,
    ) -> std::result::Result<wasm_encoder::MemoryType, ReencodeError<String>> {
        if ty.page_size_log2.is_some_and(|log2| log2 != 16) {
            return Err(ReencodeError::UserError(
                "a memory with custom page sizes cannot be bounded by max_memory_pages".into(),
            ));
        }
        self.initial_pages += ty.initial;
        let maximum = ty
            .maximum
            .map_or(self.cap_pages, |max| max.min(self.cap_pages));
        Ok(wasm_encoder::MemoryType {
            minimum: ty.initial,
            maximum: Some(maximum.max(ty.initial)),
            memory64: ty.memory64,
            shared: ty.shared,
            page_size_log2: ty.page_size_log2,
        })
    }

    fn table_type(
        &mut self,
        ty: wasmparser::TableType,
    ) -> std::result::Result<wasm_encoder::TableType, ReencodeError<String>> {
        let maximum = ty.maximum.unwrap_or(ty.initial).min(MAX_TABLE_ELEMENTS);
        if ty.initial > maximum {
            return Err(ReencodeError::UserError(format!(
                "a table of {} elements is over the limit of {MAX_TABLE_ELEMENTS}",
                ty.initial
            )));
        }
        self.table_bytes += maximum * TABLE_ELEMENT_BYTES;
        Ok(wasm_encoder::TableType {
            element_type: self.ref_type(ty.element_type)?,
            minimum: ty.initial,
            maximum: Some(maximum),
            table64: ty.table64,
            shared: ty.shared,
        })
    }
}

fn refused(reason: impl std::fmt::Display) -> ModelportError {
    ModelportError::new(
        ErrorCode::PluginLoadFailed,
        format!("the Wasm module cannot run under its memory cap: {reason}"),
    )
}

/// Rewrites `bytes` (a binary module) so that its memories and tables are bounded by `cap_pages`
/// (see the module docs). A module whose initial memory and tables already exceed the cap is
/// refused (`PLUGIN_LOAD_FAILED`).
pub fn bound_limits(bytes: Vec<u8>, cap_pages: u32) -> Result<BoundedModule> {
    let mut bounds = Bounds {
        cap_pages: cap_pages.into(),
        initial_pages: 0,
        table_bytes: 0,
    };
    let mut module = wasm_encoder::Module::new();
    for payload in Parser::new(0).parse_all(&bytes) {
        let payload = payload.map_err(|err| {
            ModelportError::new(ErrorCode::PluginLoadFailed, "the Wasm module is malformed")
                .with_cause(err)
        })?;
        match payload {
            Payload::TableSection(reader) => {
                let mut tables = TableSection::new();
                bounds
                    .parse_table_section(&mut tables, reader)
                    .map_err(refused)?;
                module.section(&tables);
            }
            Payload::MemorySection(reader) => {
                let mut memories = MemorySection::new();
                bounds
                    .parse_memory_section(&mut memories, reader)
                    .map_err(refused)?;
                module.section(&memories);
            }
            other => {
                if let Some((id, range)) = other.as_section() {
                    module.section(&RawSection {
                        id,
                        data: &bytes[range.start as usize..range.end as usize],
                    });
                }
            }
        }
    }
    // Charged by the limiter at instantiation: the memories' initial pages, the kernel's.
    let start = bounds.initial_pages + KERNEL_PAGES;
    let reserved = start + bounds.table_bytes.div_ceil(PAGE);
    let growth_pages = bounds
        .cap_pages
        .checked_sub(reserved)
        .filter(|&budget| budget >= start)
        .ok_or_else(|| {
            refused(format!(
                "its memories start at {} pages, its tables take {} KiB and Extism's buffers {KERNEL_PAGES} pages; \
                 bounding that start and its growth together takes max_memory_pages >= {}, not {cap_pages}",
                bounds.initial_pages,
                bounds.table_bytes / 1024,
                reserved + start
            ))
        })?;
    Ok(BoundedModule {
        bytes: module.finish(),
        growth_pages: growth_pages as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits_of(wasm: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        for payload in Parser::new(0).parse_all(wasm) {
            match payload.unwrap() {
                Payload::MemorySection(reader) => {
                    for memory in reader {
                        let m = memory.unwrap();
                        out.push(format!("memory {}..{:?}", m.initial, m.maximum));
                    }
                }
                Payload::TableSection(reader) => {
                    for table in reader {
                        let t = table.unwrap().ty;
                        out.push(format!("table {}..{:?}", t.initial, t.maximum));
                    }
                }
                _ => {}
            }
        }
        out
    }

    fn bound(wat: &str, cap: u32) -> Result<BoundedModule> {
        bound_limits(wat::parse_str(wat).unwrap(), cap)
    }

    #[test]
    fn memories_and_tables_get_maxima_and_count_against_the_cap() {
        let bounded = bound(
            "(module (memory 10) (table 4 funcref) (table 2 16 externref) (func (export \"f\")))",
            64,
        )
        .unwrap();
        assert_eq!(
            limits_of(&bounded.bytes),
            [
                "table 4..Some(4)",
                "table 2..Some(16)",
                "memory 10..Some(64)"
            ]
        );
        // 10 pages of memory, 20 × 8 bytes of tables (one page) and the kernel's 16 reserved.
        assert_eq!(bounded.growth_pages, 37);
        wasmparser::validate(&bounded.bytes).unwrap();
    }

    #[test]
    fn declared_maxima_are_kept_when_smaller() {
        let bounded = bound("(module (memory 1 3))", 64).unwrap();
        assert_eq!(limits_of(&bounded.bytes), ["memory 1..Some(3)"]);
        assert_eq!(bounded.growth_pages, 47);
    }

    #[test]
    fn what_cannot_fit_is_refused() {
        for (wat, cap) in [
            ("(module (memory 65))", 64),
            ("(module (memory 40) (memory 30))", 64),
            ("(module (table 8388608 funcref))", 64),
            ("(module (table 2000000 2000000 funcref))", 64),
            // Within the cap, but the start (1 + 16 pages) must fit the growth budget as well.
            ("(module (memory 1))", 33),
            ("(module (memory 20))", 64),
        ] {
            let err = bound(wat, cap).err().unwrap();
            assert_eq!(err.code, ErrorCode::PluginLoadFailed, "{wat}");
            assert!(err.to_string().contains("memory cap"), "{err}");
        }
        assert_eq!(bound("(module (memory 1))", 34).unwrap().growth_pages, 17);
    }

    #[test]
    fn a_table_without_a_maximum_cannot_grow() {
        let bounded = bound("(module (table 3 funcref))", 64).unwrap();
        assert_eq!(limits_of(&bounded.bytes), ["table 3..Some(3)"]);
    }
}
