// Builds everything `npm run demo` and `npm test` need, incrementally: npm packages (if missing
// or stale), the Rust workspace (plugins, fixtures), the napi binding, the TypeScript facade, and
// copies the plugin libraries to build/. Cargo artifacts go to a cache outside the clone
// ($CARGO_TARGET_DIR, default ~/.cache/modelport/target), so a fresh clone rebuilds incrementally.
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { buildWasm } from '../wasm/build.mjs'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..')
export const targetDir = process.env.CARGO_TARGET_DIR ?? join(homedir(), '.cache', 'modelport', 'target')
let cachedHostTriple
/** The Rust host triple (asked of rustc once, when first needed). napi builds with an explicit
 * `--target`, which puts artifacts under target/<triple>/; building and testing the workspace in
 * the same invocation shape (same triple, same package selection) lets every step share one
 * compilation of the dependencies. */
export function hostTriple() {
  if (cachedHostTriple) return cachedHostTriple
  const result = spawnSync('rustc', ['-vV'], { encoding: 'utf8' })
  cachedHostTriple = /^host: (\S+)$/m.exec(result.stdout ?? '')?.[1]
  if (!cachedHostTriple)
    throw new Error(`cannot read the Rust host triple from \`rustc -vV\` (is Rust installed?)`)
  return cachedHostTriple
}
const dllPrefix = process.platform === 'win32' ? '' : 'lib'
/** The file extension of a shared library (a native plugin) on this platform. */
export const dllExt = process.platform === 'win32' ? 'dll' : process.platform === 'darwin' ? 'dylib' : 'so'

/** Runs a command in the repo, inheriting stdio; throws on failure. */
export function run(command, args, options = {}) {
  const started = Date.now()
  const result = spawnSync(command, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, CARGO_TARGET_DIR: targetDir, ...options.env },
    // npm and node_modules/.bin tools are .cmd files on Windows, which only a shell can start.
    shell: process.platform === 'win32',
  })
  if (result.error) throw result.error
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed with exit code ${result.status}`)
  }
  if (options.timed)
    console.log(
      `  (${[command.split('/').pop(), args[0]].filter(Boolean).join(' ')}: ${((Date.now() - started) / 1000).toFixed(1)} s)`,
    )
}

function step(text) {
  console.log(`\n▶ ${text}`)
}

/** Installs npm packages when node_modules is missing or older than package-lock.json: exactly
 * the lock's versions with `npm ci`, which never rewrites the lock (a clone stays clean). */
function ensureNodeModules() {
  const marker = join(root, 'node_modules', '.package-lock.json')
  const lock = join(root, 'package-lock.json')
  if (existsSync(lock)) {
    if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return
    step('npm ci (the build and test tools, as pinned in package-lock.json)')
    run('npm', ['ci', '--no-audit', '--no-fund'], { timed: true })
  } else {
    step('npm install (no package-lock.json: resolving the tools afresh)')
    run('npm', ['install', '--no-audit', '--no-fund'], { timed: true })
  }
}

function bin(name) {
  return join(root, 'node_modules', '.bin', name)
}

/** Files @napi-rs/cli's transactional writes can leave beside what it writes (a prepared copy
 * `.<file>.<token>.<n>.prepared.tmp`, an atomic-write temporary `.<file>.<pid>.<uuid>.tmp`, its
 * lock and journal `.napi-rs-filesystem-*.swp`) when a step of its clean-up is skipped. */
const NAPI_LEFTOVER = /^\.(napi-rs-filesystem-.*|.+\.tmp)$/

/** Runs `napi build` with `args`, then removes what it left behind in the repo and in
 * `outputDir`, so a build leaves the clone as clean as it found it. */
export function napiBuild(args, outputDir = root) {
  try {
    run(bin('napi'), ['build', ...args], { timed: true })
  } finally {
    for (const dir of new Set([root, outputDir])) {
      for (const name of readdirSync(dir)) {
        if (NAPI_LEFTOVER.test(name)) rmSync(join(dir, name), { recursive: true, force: true })
      }
    }
  }
}

/** Copies built libraries to build/<folder>/<name>.<ext> (stable names the configs use). */
function copyLibraries(folder, sourceDir, names) {
  mkdirSync(join(root, 'build', folder), { recursive: true })
  for (const name of names) {
    const from = join(sourceDir, `${dllPrefix}${name}.${dllExt}`)
    copyFileSync(from, join(root, 'build', folder, `${name}.${dllExt}`))
  }
}

/** The cargo package selection of every build and test step: the same everywhere, so features
 * unify the same way and nothing is compiled twice. */
export const workspaceSelection = ['--workspace']

export const shippedPlugins = ['openai', 'scripted']
export const fixturePlugins = [
  'panicky',
  'panicky_async',
  'panic_in_factory',
  'abi_old',
  'abi_future',
  'no_descriptor',
  'no_factory',
  'null_factory',
]

export function build() {
  ensureNodeModules()
  // One cargo invocation for the binding, the plugins and the fixtures (see `hostTriple`).
  step(`napi build: the Node binding, plugins and fixtures (target dir ${targetDir})`)
  napiBuild([
    '--platform',
    '--target',
    hostTriple(),
    '--manifest-path',
    'crates/node/Cargo.toml',
    '--package-json-path',
    'package.json',
    '--output-dir',
    '.',
    '--js',
    'binding.js',
    '--dts',
    'binding.d.ts',
    '--',
    ...workspaceSelection,
    '--lib',
    '--examples',
  ])
  const outputs = join(targetDir, hostTriple(), 'debug')
  copyLibraries('plugins', outputs, shippedPlugins)
  copyLibraries('fixtures', join(outputs, 'examples'), fixturePlugins)

  step('wasm: AssemblyScript plugins')
  buildWasm()

  buildFacade()
}

/** Builds the shipped plugins in the release profile into build/release/plugins (what the
 * benchmarks load next to the release binding). */
export function buildReleasePlugins() {
  step('cargo build --release: the shipped plugins')
  const packages = shippedPlugins.flatMap((name) => ['-p', `modelport-${name}`])
  run('cargo', ['build', '--release', '--target', hostTriple(), ...packages], { timed: true })
  copyLibraries(join('release', 'plugins'), join(targetDir, hostTriple(), 'release'), shippedPlugins)
}

/** Compiles the TypeScript facade to dist/ (needs binding.d.ts from a napi build). The CLI's
 * shebang comes from src/cli.ts; npm makes `bin` files executable when it installs them. */
export function buildFacade() {
  step('tsc: the TypeScript facade')
  run(bin('tsc'), ['-p', 'tsconfig.json'], { timed: true })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    if (process.argv.includes('--facade')) buildFacade()
    else build()
  } catch (error) {
    console.error(`build failed: ${error.message}`)
    process.exit(1)
  }
}
