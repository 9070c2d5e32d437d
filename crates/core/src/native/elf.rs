//! A look at an ELF file before dlopen, to say "built for aarch64" instead of a loader riddle,
//! and to refuse a truncated library: the loader maps segments past the end of a cut-off file,
//! and touching them kills the process with SIGBUS.
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

const EM_386: u16 = 3;
const EM_ARM: u16 = 40;
const EM_X86_64: u16 = 62;
const EM_AARCH64: u16 = 183;
const EM_RISCV: u16 = 243;

fn machine_name(machine: u16) -> String {
    match machine {
        EM_386 => "x86".into(),
        EM_ARM => "arm".into(),
        EM_X86_64 => "x86_64".into(),
        EM_AARCH64 => "aarch64".into(),
        EM_RISCV => "riscv".into(),
        other => format!("ELF machine {other}"),
    }
}

fn host_machine() -> Option<u16> {
    match std::env::consts::ARCH {
        "x86" => Some(EM_386),
        "arm" => Some(EM_ARM),
        "x86_64" => Some(EM_X86_64),
        "aarch64" => Some(EM_AARCH64),
        "riscv64" => Some(EM_RISCV),
        _ => None,
    }
}

/// On ELF platforms, why `path` cannot be a loadable library for this host, if that is visible
/// from its headers: empty, not ELF, not a shared object, other architecture, or segments that
/// reach past the end of the file (truncated) or a program header table that does not fit.
pub fn precheck(path: &Path) -> Option<String> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let mut file = std::fs::File::open(path).ok()?;
    let file_len = file.metadata().ok()?.len();
    let mut buffer = [0u8; 64];
    let read = file.by_ref().take(64).read(&mut buffer).ok()?;
    let header = &buffer[..read];
    if read == 0 {
        return Some("the file is empty".into());
    }
    if read < 20 || &header[..4] != b"\x7fELF" {
        return Some("not a shared library (no ELF header)".into());
    }
    let elf = Elf {
        little_endian: header[5] == 1,
        wide: header[4] == 2,
    };
    const ET_DYN: u16 = 3;
    if elf.u16(header, 16) != ET_DYN {
        return Some("an ELF file but not a shared library".into());
    }
    let machine = elf.u16(header, 18);
    if let Some(host) = host_machine()
        && host != machine
    {
        return Some(format!(
            "built for {}, but this host is {}",
            machine_name(machine),
            std::env::consts::ARCH
        ));
    }
    if read < elf.header_len() {
        return Some("a truncated ELF header".into());
    }
    elf.check_segments(header, &mut file, file_len)
}

/// How to read one ELF file's fields.
struct Elf {
    little_endian: bool,
    /// ELFCLASS64.
    wide: bool,
}

impl Elf {
    fn u16(&self, bytes: &[u8], at: usize) -> u16 {
        let raw = [bytes[at], bytes[at + 1]];
        if self.little_endian {
            u16::from_le_bytes(raw)
        } else {
            u16::from_be_bytes(raw)
        }
    }

    fn u32(&self, bytes: &[u8], at: usize) -> u32 {
        let raw = bytes[at..at + 4].try_into().expect("4 bytes");
        if self.little_endian {
            u32::from_le_bytes(raw)
        } else {
            u32::from_be_bytes(raw)
        }
    }

    /// An address-sized field.
    fn word(&self, bytes: &[u8], at: usize) -> u64 {
        if !self.wide {
            return u64::from(self.u32(bytes, at));
        }
        let raw = bytes[at..at + 8].try_into().expect("8 bytes");
        if self.little_endian {
            u64::from_le_bytes(raw)
        } else {
            u64::from_be_bytes(raw)
        }
    }

    fn header_len(&self) -> usize {
        if self.wide { 64 } else { 52 }
    }

    /// Checks the program header table and that every segment's file bytes are in the file.
    fn check_segments(
        &self,
        header: &[u8],
        file: &mut std::fs::File,
        file_len: u64,
    ) -> Option<String> {
        // (e_phoff, e_phentsize, e_phnum) offsets, the expected entry size, and where p_offset
        // and p_filesz sit in an entry.
        let (phoff_at, phentsize_at, phnum_at, entry_len, offset_at, filesz_at) = if self.wide {
            (0x20, 0x36, 0x38, 56, 8, 32)
        } else {
            (0x1c, 0x2a, 0x2c, 32, 4, 16)
        };
        let phoff = self.word(header, phoff_at);
        let entry_size = self.u16(header, phentsize_at);
        let count = self.u16(header, phnum_at);
        if usize::from(entry_size) != entry_len {
            return Some(format!(
                "a corrupt ELF header (program header entries of {entry_size} bytes, not {entry_len})"
            ));
        }
        let table_end = phoff.checked_add(u64::from(count) * u64::from(entry_size));
        if table_end.is_none_or(|end| end > file_len) {
            return Some(
                "a corrupt or truncated ELF file (its program headers are missing)".into(),
            );
        }
        let mut table = vec![0u8; usize::from(count) * entry_len];
        file.seek(SeekFrom::Start(phoff)).ok()?;
        file.read_exact(&mut table).ok()?;
        for (index, entry) in table.chunks_exact(entry_len).enumerate() {
            let offset = self.word(entry, offset_at);
            let size = self.word(entry, filesz_at);
            if offset.checked_add(size).is_none_or(|end| end > file_len) {
                return Some(format!(
                    "a truncated or corrupt ELF file: segment {index} needs bytes up to {} but the file has {file_len}",
                    offset.saturating_add(size)
                ));
            }
        }
        None
    }
}
