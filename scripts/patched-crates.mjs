// The crates.io crates modelport builds with changes of its own, each an upstreamable diff in
// patches/ against the published crate. The patched sources are made here, in build/patched/<name>
// (the `[patch.crates-io]` paths of Cargo.toml), from the published .crate (cargo's download cache,
// else crates.io), checked against its sha256, unpacked and patched with `git apply`; they are
// made again when a patch changes. Every cargo command in this workspace needs them first.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** Each patched crate: the published version its patches apply to, that .crate's sha256 (as in
 * crates.io's index and Cargo.lock before the patch), and its patches. */
export const PATCHED_CRATES = [
  {
    name: 'extism',
    version: '1.41.0',
    sha256: '860090381aac0f75f2085e66fe85d1653210dde426daa194b6b1373f1b5926b3',
    // Applied in this order, each an upstreamable change of its own.
    patches: [
      // Extism's timer thread was woken twice per call (a start and a stop message): a call now
      // registers its deadline under a lock, and the thread is woken only when it must act sooner.
      'patches/extism-1.41.0-timer.patch',
      // `PluginBuilder::with_wasi_output`: a plugin's WASI stdout/stderr to the process's, per
      // plugin (1.41 has only the process-wide EXTISM_ENABLE_WASI_OUTPUT variable).
      'patches/extism-1.41.0-wasi-output.patch',
      // A cancel that reached the timer before the call it meant had started was dropped, and the
      // call then ran to its timeout (or forever without one): such a cancel is now kept and
      // interrupts the call as it starts; the epoch deadline is set before the timer knows the call.
      'patches/extism-1.41.0-cancel-before-start.patch',
    ],
  },
  {
    // usearch's SIMD kernels (from usearch's C++, which includes this crate's headers).
    name: 'numkong',
    version: '7.8.7',
    sha256: '431a7e50171e9b47035d5dcb57e802186688a9e0a878a62beedfcc6afcb43ebd',
    patches: [
      // `capabilities.h` declares `syscall` `noexcept` in C++ (as glibc does); musl's declaration
      // has no exception specification and clang refuses the mismatch, so musl builds stopped.
      'patches/numkong-7.8.7-musl-syscall.patch',
    ],
  },
]

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex')

/** Downloads `url` to `file` (in a child Node: the build scripts are synchronous). */
function download(url, file) {
  const script =
    'const [url, file] = process.argv.slice(1); const r = await fetch(url); ' +
    "if (!r.ok) { console.error('HTTP ' + r.status); process.exit(1) } " +
    "(await import('node:fs')).writeFileSync(file, Buffer.from(await r.arrayBuffer()))"
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script, url, file], {
    encoding: 'utf8',
  })
  if (result.status !== 0)
    throw new Error(`downloading ${url}: ${result.stderr.trim() || result.error?.message}`)
}

/** The published .crate, written to `archive`: from cargo's download cache when it holds it,
 * else from crates.io; checked against its sha256. */
function fetchCrate({ name, version, sha256: expected }, archive) {
  const registryCache = join(process.env.CARGO_HOME ?? join(homedir(), '.cargo'), 'registry', 'cache')
  const file = `${name}-${version}.crate`
  const cached = existsSync(registryCache)
    ? readdirSync(registryCache)
        .map((index) => join(registryCache, index, file))
        .find((path) => existsSync(path))
    : undefined
  const from = cached ?? `https://static.crates.io/crates/${name}/${file}`
  if (cached) copyFileSync(cached, archive)
  else download(from, archive)
  const actual = sha256(readFileSync(archive))
  if (actual !== expected)
    throw new Error(`${from}: sha256 ${actual}, expected ${expected} (crates.io's ${name} ${version})`)
}

function runChecked(command, args, cwd, what, env = {}) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env } })
  if (result.error || result.status !== 0)
    throw new Error(
      `${what}: \`${command} ${args.join(' ')}\` failed: ${result.error?.message ?? result.stderr}`,
    )
}

/** build/patched/<name>, made (or made again) when missing or made from other patches. */
function patchedCrate(crate) {
  const dir = join(root, 'build', 'patched', crate.name)
  const patches = crate.patches.map((patch) => `${patch} ${sha256(readFileSync(join(root, patch)))}`)
  const stamp = `${crate.name} ${crate.version} ${crate.sha256}\n${patches.join('\n')}\n`
  const stampFile = join(dir, '.modelport-patched')
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return
  console.log(
    `▶ patched crate: ${crate.name} ${crate.version} + ${crate.patches.join(' + ')} → build/patched/${crate.name}`,
  )
  const scratch = `${dir}.${process.pid}.partial`
  rmSync(scratch, { recursive: true, force: true })
  mkdirSync(scratch, { recursive: true })
  try {
    const archive = join(scratch, `${crate.name}-${crate.version}.crate`)
    fetchCrate(crate, archive)
    runChecked('tar', ['-xzf', archive, '--strip-components=1'], scratch, `unpacking ${crate.name}`)
    rmSync(archive)
    // Outside any repository: inside one (this clone), git apply would take the patch's paths as
    // the repository's and skip them.
    const outsideRepo = { GIT_CEILING_DIRECTORIES: dirname(scratch) }
    for (const patch of crate.patches)
      runChecked('git', ['apply', join(root, patch)], scratch, `applying ${patch}`, outsideRepo)
    writeFileSync(stampFile.replace(dir, scratch), stamp)
  } catch (error) {
    rmSync(scratch, { recursive: true, force: true })
    throw error
  }
  rmSync(dir, { recursive: true, force: true })
  renameSync(scratch, dir)
}

let prepared = false
/** Makes every patched crate's sources (checked once per process). */
export function preparePatchedCrates() {
  if (prepared) return
  for (const crate of PATCHED_CRATES) patchedCrate(crate)
  prepared = true
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    preparePatchedCrates()
  } catch (error) {
    console.error(`patched crates: ${error.message}`)
    process.exit(1)
  }
}
