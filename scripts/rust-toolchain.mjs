// The Rust that builds modelport: rustc ≥ 1.96, the least wasmtime 49 takes (extism 1.41 runs on
// it, the first extism whose read-only folder grants hand out read-only handles). rustup's
// toolchain on PATH when it is recent enough; otherwise Debian's rustc-web/cargo-web (1.96 in
// bookworm-security), installed with apt-get when missing and put first on PATH through a folder
// of links, so napi build, cargo and cargo's build scripts all use it.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs'
import { delimiter, join } from 'node:path'

import { aptHas, aptInstall } from './apt.mjs'

export const RUST_REQUIRED = '1.96.0'
const DEBIAN_BIN = '/usr/bin'

/** `rustc --version`'s version (`1.96.0`) of the rustc at `rustc`, if it runs. */
export function rustcVersion(rustc) {
  const out = spawnSync(rustc, ['--version'], { encoding: 'utf8' }).stdout ?? ''
  return /^rustc (\d+\.\d+\.\d+)/.exec(out)?.[1]
}

function atLeast(version, required) {
  const [a, b] = [version, required].map((v) => v.split('.').map(Number))
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i]
  return true
}

/** Debian's rustc-web and cargo-web, installed when missing; `undefined` where apt has none. */
function debianRust(linkDir) {
  const rustc = join(DEBIAN_BIN, 'rustc')
  if (!existsSync(rustc) || !existsSync(join(DEBIAN_BIN, 'cargo'))) {
    if (process.platform !== 'linux' || !aptHas('rustc-web')) return undefined
    aptInstall(['rustc-web', 'cargo-web'], `modelport builds with Rust ≥ ${RUST_REQUIRED}: these`)
  }
  const version = rustcVersion(rustc)
  if (!version || !atLeast(version, RUST_REQUIRED)) return undefined
  mkdirSync(linkDir, { recursive: true })
  for (const tool of ['cargo', 'rustc', 'rustdoc']) {
    const link = join(linkDir, tool)
    const target = join(DEBIAN_BIN, tool)
    let current
    try {
      current = readlinkSync(link)
    } catch {
      current = undefined
    }
    if (current === target) continue
    rmSync(link, { force: true })
    symlinkSync(target, link)
  }
  return {
    version,
    rustc,
    env: {
      PATH: `${linkDir}${delimiter}${process.env.PATH}`,
      RUSTC: rustc,
      RUSTDOC: join(DEBIAN_BIN, 'rustdoc'),
    },
  }
}

let chosen
/** The toolchain (its version, its rustc, and the environment that puts it first) that builds
 * modelport; `linkDir` holds the links to Debian's when that is the one. Throws, saying what to
 * install, when this machine has none recent enough. */
export function rustToolchain(linkDir) {
  if (chosen) return chosen
  const onPath = rustcVersion('rustc')
  if (onPath && atLeast(onPath, RUST_REQUIRED)) return (chosen = { version: onPath, rustc: 'rustc', env: {} })
  chosen = debianRust(linkDir)
  if (!chosen)
    throw new Error(
      `modelport builds with Rust ≥ ${RUST_REQUIRED} (wasmtime 49); this machine has ` +
        `${onPath ? `rustc ${onPath}` : 'no rustc'}: \`rustup toolchain install ${RUST_REQUIRED}\` ` +
        `(or \`apt-get install rustc-web cargo-web\` on Debian 12)`,
    )
  return chosen
}
