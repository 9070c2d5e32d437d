//! Read-only folder grants (`ro:` host paths) are refused.
//!
//! extism 1.30 (on wasi-common) wraps a read-only grant's folder, but any folder opened through
//! it, the grant's own `.` included, comes back unwrapped: the plugin could create, overwrite and
//! delete files in a "read-only" grant. extism's later releases (on wasmtime-wasi, with real
//! read-only permissions) need a newer Rust than this project builds with; until then a
//! read-only grant is refused rather than given as writable.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{ErrorCode, ModelportError, Result};

/// Prefix of a read-only host path in Extism's `allowed_paths`.
const READ_ONLY_PREFIX: &str = "ro:";

/// Refuses the first read-only grant in `paths`, if any.
pub fn refuse_read_only_grants(paths: &BTreeMap<String, PathBuf>) -> Result<()> {
    let Some(folder) = paths
        .keys()
        .find_map(|host| host.strip_prefix(READ_ONLY_PREFIX))
    else {
        return Ok(());
    };
    Err(ModelportError::new(
        ErrorCode::Unsupported,
        format!(
            "read-only folder grants (ro:{folder}) are not supported: the Wasm sandbox \
             (extism 1.30) would let the plugin write through a read-only grant's folder handles; \
             grant a folder writable or not at all"
        ),
    )
    .with_path(Path::new(folder)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_grants_are_refused_and_writable_ones_pass() {
        let writable = BTreeMap::from([("/srv/data".to_string(), PathBuf::from("/data"))]);
        refuse_read_only_grants(&writable).unwrap();

        let read_only = BTreeMap::from([("ro:/srv/data".to_string(), PathBuf::from("/data"))]);
        let err = refuse_read_only_grants(&read_only).unwrap_err();
        assert_eq!(err.code, ErrorCode::Unsupported);
        assert_eq!(err.path.as_deref(), Some("/srv/data"));
    }
}
