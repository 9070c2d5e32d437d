// Installs bubblewrap (for the sandboxed tool executor's tests), builds a Wasm plugin with Extism's
// Rust PDK (wasm/rust/pdk_fixture, for wasm32 with -Zbuild-std: the rustup toolchain has no wasm32
// target here) and the native plugins that
// prove the C ABI holds across compilers (issue 17), for `npm test` on Linux (glibc): the openai and scripted plugins built by a second rustc (Debian's
// `rustc-web`, another version than the rustup toolchain that builds modelport; where Debian's
// is not available, e.g. on Ubuntu, rustup's beta), the openai plugin with mimalloc as its global
// allocator, and an OpenAI-compatible plugin written in C (clang + cJSON). Installs the packages
// it needs (clang, libcjson-dev, and rustc-web/cargo-web where the distribution has them) when they
// are missing, with apt-get as root or through passwordless sudo. Each build is incremental.
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

import { dllExt, hostTriple, root, run, targetDir } from './build.mjs'

/** Debian's second Rust toolchain (rustc-web / cargo-web), beside rustup's. */
export const debianRustc = '/usr/bin/rustc'
const debianCargo = '/usr/bin/cargo'
const PACKAGES = ['clang', 'libcjson-dev', 'rustc-web', 'cargo-web', 'rust-web-src', 'lld', 'bubblewrap']

/** Whether the platform's compat fixtures can be built here: Linux with glibc. */
export function compatFixturesSupported() {
  return process.platform === 'linux' && Boolean(process.report?.getReport().header.glibcVersionRuntime)
}

function available(name) {
  return /Candidate: (?!\(none\))/.test(
    spawnSync('apt-cache', ['policy', name], { encoding: 'utf8' }).stdout ?? '',
  )
}

function missingPackages() {
  const has = (path) => existsSync(path)
  return PACKAGES.filter((name) => {
    if (name === 'clang') return spawnSync('clang', ['--version']).status !== 0
    if (name === 'libcjson-dev') return !has('/usr/include/cjson/cJSON.h')
    if (name === 'bubblewrap') return !has('/usr/bin/bwrap')
    if (name === 'lld') return !has('/usr/bin/wasm-ld')
    if (name === 'rust-web-src')
      return !has('/usr/lib/rustlib/src/rust/library/Cargo.lock') && available(name)
    // Debian's second Rust: only where the distribution has it (rustup's beta stands in elsewhere).
    if (name === 'rustc-web') return !has(debianRustc) && available(name)
    return !has(debianCargo) && available(name)
  })
}

function version(rustc) {
  return spawnSync(rustc, ['--version'], { encoding: 'utf8' }).stdout?.trim()
}

/** The second Rust toolchain: Debian's rustc-web, or rustup's beta. */
function secondRust() {
  if (existsSync(debianRustc) && existsSync(debianCargo) && version(debianRustc) !== version('rustc'))
    return { cargo: debianCargo, rustc: debianRustc }
  console.log('\n▶ rustup toolchain install beta (no Debian rustc-web here)')
  run('rustup', ['toolchain', 'install', 'beta', '--profile', 'minimal', '--target', hostTriple()])
  const which = (tool) =>
    spawnSync('rustup', ['which', tool, '--toolchain', 'beta'], { encoding: 'utf8' }).stdout.trim()
  return { cargo: which('cargo'), rustc: which('rustc') }
}

function ensurePackages() {
  const missing = missingPackages()
  if (missing.length === 0) return
  const root = process.getuid?.() === 0
  const sudo = !root && spawnSync('sudo', ['-n', 'true']).status === 0
  if (!root && !sudo)
    throw new Error(
      `the cross-compiler fixtures need the Debian packages ${missing.join(', ')}; install them ` +
        `(apt-get install ${missing.join(' ')}) or run npm test as root`,
    )
  const apt = (args) => (root ? run('apt-get', args) : run('sudo', ['-n', 'apt-get', ...args]))
  console.log(`\n▶ apt-get install ${missing.join(' ')}`)
  apt(['update', '-qq'])
  apt(['install', '-y', '-qq', '--no-install-recommends', ...missing])
}

const out = join(root, 'build', 'fixtures')

function copy(from, to) {
  mkdirSync(join(to, '..'), { recursive: true })
  copyFileSync(from, to)
}

/** The C plugin, rebuilt when its source or the header changed. */
function buildC() {
  const source = join(root, 'crates', 'fixtures', 'c', 'openai_c.c')
  const header = join(root, 'include', 'modelport_plugin.h')
  const target = join(out, `openai_c.${dllExt}`)
  const newest = Math.max(statSync(source).mtimeMs, statSync(header).mtimeMs)
  if (existsSync(target) && statSync(target).mtimeMs >= newest) return
  console.log('\n▶ clang: the C plugin fixture (openai_c)')
  mkdirSync(out, { recursive: true })
  run('clang', [
    '-shared',
    '-fPIC',
    '-O2',
    '-std=c11',
    '-D_POSIX_C_SOURCE=200809L',
    '-Wall',
    '-Wextra',
    '-Werror',
    `-I${join(root, 'include')}`,
    source,
    '-lcjson',
    '-o',
    target,
  ])
}

/** openai and scripted built by the second cargo and rustc, in a target dir of their own. */
function buildWithSecondRust() {
  const { cargo, rustc } = secondRust()
  console.log(`\n▶ ${cargo} (${version(rustc)}): openai and scripted plugin fixtures`)
  const dir = `${targetDir}-rustc-web`
  run(
    cargo,
    ['build', '--locked', '-p', 'modelport-openai', '-p', 'modelport-scripted', '--target', hostTriple()],
    { timed: true, env: { RUSTC: rustc, CARGO_TARGET_DIR: dir, RUSTC_WRAPPER: '' } },
  )
  for (const name of ['openai', 'scripted'])
    copy(
      join(dir, hostTriple(), 'debug', `lib${name}.${dllExt}`),
      join(out, 'rustc_web', `${name}.${dllExt}`),
    )
}

/** openai with mimalloc as its global allocator (rustup's toolchain, its own target dir). */
function buildWithMimalloc() {
  console.log('\n▶ cargo: the openai plugin with mimalloc as its global allocator')
  const dir = `${targetDir}-mimalloc`
  run(
    'cargo',
    ['build', '--locked', '-p', 'modelport-openai', '--features', 'mimalloc', '--target', hostTriple()],
    {
      timed: true,
      env: { CARGO_TARGET_DIR: dir },
    },
  )
  copy(join(dir, hostTriple(), 'debug', `libopenai.${dllExt}`), join(out, `openai_mimalloc.${dllExt}`))
}

/** The Rust-PDK Wasm plugin: the second Rust (a rustc with its library sources: Debian's
 * rust-web-src, or rustup's rust-src component) builds std for wasm32 itself, linked by wasm-ld. */
function buildRustPdkWasm() {
  const { cargo, rustc } = secondRust()
  if (rustc !== debianRustc) run('rustup', ['component', 'add', 'rust-src', '--toolchain', 'beta'])
  const project = join(root, 'wasm', 'rust', 'pdk_fixture')
  const target = join(out, 'pdk_fixture.wasm')
  const dir = `${targetDir}-pdk`
  console.log(`\n▶ ${cargo} (${version(rustc)}): the Rust-PDK Wasm plugin fixture (wasm32, -Zbuild-std)`)
  run(
    cargo,
    [
      'build',
      '--locked',
      '--release',
      '--manifest-path',
      join(project, 'Cargo.toml'),
      '--target',
      'wasm32-unknown-unknown',
      '-Zbuild-std=std,panic_abort',
    ],
    {
      timed: true,
      env: {
        RUSTC: rustc,
        RUSTC_WRAPPER: '',
        RUSTC_BOOTSTRAP: '1',
        CARGO_TARGET_DIR: dir,
        CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER: 'wasm-ld',
      },
    },
  )
  copy(join(dir, 'wasm32-unknown-unknown', 'release', 'pdk_fixture.wasm'), target)
}

/** Builds them; `false` (and nothing built) off Linux-glibc, where `npm test` leaves out the
 * tests that use them (scripts/test.mjs). */
export function buildCompatFixtures() {
  if (!compatFixturesSupported()) {
    console.log('\n▶ cross-compiler fixtures: built on Linux (glibc) only; their tests are left out here')
    return false
  }
  ensurePackages()
  buildC()
  buildWithSecondRust()
  buildWithMimalloc()
  buildRustPdkWasm()
  return true
}

if (import.meta.url === `file://${process.argv[1]}`) buildCompatFixtures()
