// Installs bubblewrap (for the sandboxed tool executor's tests), builds a Wasm plugin with Extism's
// Rust PDK (wasm/rust/pdk_fixture, for wasm32 with -Zbuild-std: the rustup toolchain has no wasm32
// target here) and the native plugins that prove the C ABI holds across compilers (issue 17), for
// `npm test` on Linux (glibc): the openai and scripted plugins built by a second rustc (another
// version than the one that builds modelport, scripts/rust-toolchain.mjs: rustup's toolchain when
// modelport builds with Debian's rustc-web, else Debian's, else rustup's beta), the openai plugin
// with mimalloc as its global allocator, and an OpenAI-compatible plugin written in C (clang +
// cJSON). Installs the packages it needs (clang, libcjson-dev, rust-web-src, lld, bubblewrap)
// when they are missing. Each build is incremental.
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

import { aptHas, aptInstall } from './apt.mjs'
import { dllExt, hostTriple, root, run, rust, targetDir } from './build.mjs'
import { rustcVersion } from './rust-toolchain.mjs'

/** Debian's Rust (rustc-web / cargo-web), which has its library sources (rust-web-src). */
const debianRustc = '/usr/bin/rustc'
const debianCargo = '/usr/bin/cargo'
const PACKAGES = ['clang', 'libcjson-dev', 'rustc-web', 'cargo-web', 'rust-web-src', 'lld', 'bubblewrap']

/** Whether the platform's compat fixtures can be built here: Linux with glibc. */
export function compatFixturesSupported() {
  return process.platform === 'linux' && Boolean(process.report?.getReport().header.glibcVersionRuntime)
}

function missingPackages() {
  const has = (path) => existsSync(path)
  return PACKAGES.filter((name) => {
    if (name === 'clang') return spawnSync('clang', ['--version']).status !== 0
    if (name === 'libcjson-dev') return !has('/usr/include/cjson/cJSON.h')
    if (name === 'bubblewrap') return !has('/usr/bin/bwrap')
    if (name === 'lld') return !has('/usr/bin/wasm-ld')
    if (name === 'rust-web-src') return !has('/usr/lib/rustlib/src/rust/library/Cargo.lock') && aptHas(name)
    // Debian's Rust: only where the distribution has it (rustup's beta stands in elsewhere).
    if (name === 'rustc-web') return !has(debianRustc) && aptHas(name)
    return !has(debianCargo) && aptHas(name)
  })
}

/** rustup's `tool` of `toolchain` (its default when none is named), as a path. */
function rustupTool(tool, toolchain) {
  const args = ['which', tool, ...(toolchain ? ['--toolchain', toolchain] : [])]
  const result = spawnSync('rustup', args, { encoding: 'utf8' })
  return result.status === 0 ? result.stdout.trim() : undefined
}

/** A Rust toolchain of another version than the one that builds modelport: rustup's default,
 * Debian's, or rustup's beta (installed here). */
function secondRust() {
  const main = rust().version
  const candidates = [
    { cargo: rustupTool('cargo'), rustc: rustupTool('rustc') },
    { cargo: debianCargo, rustc: debianRustc },
  ]
  for (const candidate of candidates) {
    if (!candidate.rustc || !existsSync(candidate.rustc) || !existsSync(candidate.cargo)) continue
    const version = rustcVersion(candidate.rustc)
    if (version && version !== main) return { ...candidate, version }
  }
  console.log('\n▶ rustup toolchain install beta (no second Rust here)')
  return rustupBeta([])
}

/** rustup's beta toolchain with `components`, installed (or completed) here. */
function rustupBeta(components) {
  const extra = components.flatMap((component) => ['--component', component])
  run('rustup', ['toolchain', 'install', 'beta', '--profile', 'minimal', '--target', hostTriple(), ...extra])
  const beta = { cargo: rustupTool('cargo', 'beta'), rustc: rustupTool('rustc', 'beta') }
  return { ...beta, version: rustcVersion(beta.rustc) }
}

/** A Rust with its library sources, to build std for wasm32: Debian's (rust-web-src), or rustup's
 * beta with its rust-src component. */
function rustWithSources() {
  if (existsSync('/usr/lib/rustlib/src/rust/library/Cargo.lock') && existsSync(debianCargo))
    return { cargo: debianCargo, rustc: debianRustc, version: rustcVersion(debianRustc) }
  return rustupBeta(['rust-src'])
}

function ensurePackages() {
  aptInstall(missingPackages(), 'the cross-compiler fixtures and the sandbox tests')
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
  const { cargo, rustc, version } = secondRust()
  console.log(`\n▶ ${cargo} (rustc ${version}): openai and scripted plugin fixtures`)
  const dir = `${targetDir}-rustc-${version}`
  run(
    cargo,
    ['build', '--locked', '-p', 'modelport-openai', '-p', 'modelport-scripted', '--target', hostTriple()],
    { timed: true, env: { RUSTC: rustc, CARGO_TARGET_DIR: dir, RUSTC_WRAPPER: '' } },
  )
  for (const name of ['openai', 'scripted'])
    copy(
      join(dir, hostTriple(), 'debug', `lib${name}.${dllExt}`),
      join(out, 'second_rustc', `${name}.${dllExt}`),
    )
}

/** openai with mimalloc as its global allocator (modelport's toolchain, its own target dir). */
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

/** The Rust-PDK Wasm plugin: a rustc with its library sources (Debian's rust-web-src, or
 * rustup's rust-src component) builds std for wasm32 itself, linked by wasm-ld. */
function buildRustPdkWasm() {
  const { cargo, rustc, version } = rustWithSources()
  const project = join(root, 'wasm', 'rust', 'pdk_fixture')
  const target = join(out, 'pdk_fixture.wasm')
  const dir = `${targetDir}-pdk`
  console.log(`\n▶ ${cargo} (rustc ${version}): the Rust-PDK Wasm plugin fixture (wasm32, -Zbuild-std)`)
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
