import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

import type { ExecutionContext } from 'ava'
import { ModelportError, type ProviderEntry } from 'modelport'

export const root = resolve(__dirname, '..')
export const ext = process.platform === 'win32' ? 'dll' : process.platform === 'darwin' ? 'dylib' : 'so'

/**
 * How much slower than this machine the tests' CPU is: 1, or what `npm run test:target` sets in
 * MODELPORT_TEST_TIME_SCALE for a target run under emulation (qemu-user runs Node 10–50× slower).
 * Every wait and bound below is multiplied by it.
 */
export const TIME_SCALE = Number(process.env['MODELPORT_TEST_TIME_SCALE'] ?? 1)

/**
 * What an emulator adds to a process's resident set, in MiB, for memory bounds: 0 natively; under
 * qemu-user (`npm run test:target` names it in MODELPORT_TEST_EMULATOR) the process's RSS holds
 * qemu's own heap and translated-code cache besides the program's memory. Measured: a small
 * script's Node 158 MiB under qemu (38 MiB of it the code cache, which grows to 128 MiB) against
 * 48 MiB natively, so up to 110 − 38 + 128 = 200 MiB.
 */
export const EMULATOR_MEMORY_MIB = process.env['MODELPORT_TEST_EMULATOR'] ? 200 : 0

/**
 * The slack a timing bound gets. Tests run on loaded 2-core machines (ava runs files in parallel
 * next to CPU-heavy tests; CI starts while the machine is still busy; `npm run test:stress` adds
 * two CPU burners: there an abort once took 4.7 s to land), so an upper bound in a test only
 * tells "stopped by the mechanism under test, not by the slow path it replaces": the slow path
 * is never sooner than `SLOW_PATH_MS`. How fast things are is measured in benchmark/, never here.
 * Tests that time something run serially within their file (`test.serial`), so that no other
 * test of the file blocks the event loop (`callSync`) or compiles beside them.
 */
export const SLACK_MS = 10_000 * TIME_SCALE

/** How far away the slow path of a timing test is (an upstream's latency, a retry's wait). */
export const SLOW_PATH_MS = 60_000 * TIME_SCALE

/** A timeout short enough to keep tests quick, long enough that a healthy Wasm call (micro- to
 * milliseconds of work) never reaches it while its thread waits for a busy CPU. */
export const WASM_TIMEOUT_MS = 1000 * TIME_SCALE

/** A provider's `timeout_ms` default (30 s), stretched by `TIME_SCALE`: for tests whose calls take
 * seconds natively (long streams, large bodies) and must not reach it under emulation. */
export const PLUGIN_TIMEOUT_MS = 30_000 * TIME_SCALE

/** A provider's `request_timeout_ms` default (600 s for a whole HTTP exchange, body included),
 * stretched by `TIME_SCALE`: for streams that take seconds natively and minutes under emulation. */
export const REQUEST_TIMEOUT_MS = 600_000 * TIME_SCALE

/** Runs `work` and returns its result with the wall time it took, in milliseconds. */
export async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now()
  const value = await work()
  return [value, performance.now() - start]
}

/** Waits until `check()` holds; false if it still does not after `ms` (a wait, not a bound). */
export async function eventually(check: () => boolean, ms = 20_000 * TIME_SCALE): Promise<boolean> {
  const until = Date.now() + ms
  while (!check()) {
    if (Date.now() > until) return false
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return true
}

/** Where the native plugins and fixtures under test are: build/, or build/<triple>/ for a cross
 * target (`npm run test:target` sets MODELPORT_TEST_NATIVE_DIR). */
const nativeDir = process.env['MODELPORT_TEST_NATIVE_DIR'] ?? join(root, 'build')

/** A shipped plugin built by `npm run build`. */
export function plugin(name: 'openai' | 'scripted'): string {
  return join(nativeDir, 'plugins', `${name}.${ext}`)
}

/** A hostile or broken test plugin built by `npm run build`. */
export function fixture(name: string): string {
  return join(nativeDir, 'fixtures', `${name}.${ext}`)
}

/** A fresh temporary folder. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'modelport-test-'))
}

/** Writes `text` to `name` in a fresh temporary folder and returns its path. */
export function tempFile(name: string, text: string | Buffer): string {
  const path = join(tempDir(), name)
  writeFileSync(path, text)
  return path
}

/** A provider entry for the shipped openai plugin pointed at `url`. */
export function openaiEntry(url: string, config: Record<string, unknown> = {}): ProviderEntry {
  return { name: 'openai', path: plugin('openai'), config: { base_url: url, model: 'mock-gpt-1', ...config } }
}

/** The openai provider entry in each runtime it has: the native plugin and the Wasm (v2) one. */
export const openaiRuntimes: Array<[string, (url: string) => ProviderEntry]> = [
  ['native', (url) => openaiEntry(url)],
  [
    'Wasm',
    (url) => ({
      name: 'openai',
      path: wasmProvider('openai_v2'),
      config: { base_url: url, model: 'mock-gpt-1' },
    }),
  ],
]

/** Asserts that `work` rejects with a `ModelportError`, and returns it. */
export function failure(
  t: ExecutionContext,
  work: Promise<unknown> | (() => Promise<unknown>),
): Promise<ModelportError | undefined> {
  return t.throwsAsync(typeof work === 'function' ? work() : work, { instanceOf: ModelportError })
}

/** Asserts that `work` throws a `ModelportError`, and returns it. */
export function failureSync(t: ExecutionContext, work: () => unknown): ModelportError | undefined {
  return t.throws(work, { instanceOf: ModelportError })
}

/** WAT fixtures (wasm/wat), loaded as text. */
const WAT_FIXTURES = ['hostile', 'start_loop', 'initialize_loop', 'start_counter', 'files', 'bounds'] as const

/** A Wasm plugin built by `npm run build` (AssemblyScript, wasm/as) or a WAT fixture (wasm/wat). */
export function wasm(
  name: 'echo' | 'count_vowels' | 'host_functions' | 'http_fetch' | (typeof WAT_FIXTURES)[number],
): string {
  return (WAT_FIXTURES as readonly string[]).includes(name)
    ? join(root, 'wasm', 'wat', `${name}.wat`)
    : join(root, 'wasm', 'build', `${name}.wasm`)
}

/** A Wasm provider plugin built by `npm run build` (wasm/as). */
export function wasmProvider(
  name:
    | 'openai_v2'
    | 'openai_v1'
    | 'hostile_v2'
    | 'echo_provider'
    | 'flood_v1'
    | 'key_thief_v2'
    | 'stream_hoarder_v1',
): string {
  return join(root, 'wasm', 'build', `${name}.wasm`)
}
