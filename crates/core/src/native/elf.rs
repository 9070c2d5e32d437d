//! A look at an ELF header before dlopen, to say "built for aarch64" instead of a loader riddle.
use std::io::Read;
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
/// from its header: empty, not ELF, not a shared object, other architecture.
pub fn precheck(path: &Path) -> Option<String> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let mut header = [0u8; 20];
    let mut file = std::fs::File::open(path).ok()?;
    let read = file.read(&mut header).ok()?;
    if read == 0 {
        return Some("the file is empty".into());
    }
    if read < header.len() || &header[..4] != b"\x7fELF" {
        return Some("not a shared library (no ELF header)".into());
    }
    let little_endian = header[5] == 1;
    let field = |at: usize| {
        let bytes = [header[at], header[at + 1]];
        if little_endian {
            u16::from_le_bytes(bytes)
        } else {
            u16::from_be_bytes(bytes)
        }
    };
    const ET_DYN: u16 = 3;
    if field(16) != ET_DYN {
        return Some("an ELF file but not a shared library".into());
    }
    let machine = field(18);
    match host_machine() {
        Some(host) if host != machine => Some(format!(
            "built for {}, but this host is {}",
            machine_name(machine),
            std::env::consts::ARCH
        )),
        _ => None,
    }
}
