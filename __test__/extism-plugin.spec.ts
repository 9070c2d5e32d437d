import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'

import test from 'ava'
import { ExtismPlugin } from 'modelport'

import {
  failure,
  failureSync,
  root,
  SLACK_MS,
  tempDir,
  tempFile,
  timed,
  WASM_TIMEOUT_MS,
  wasm,
} from './helpers'

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8')

// Each test gets its own cache folder, so no test depends on another's compilation.
const load = (name: Parameters<typeof wasm>[0], options: Parameters<typeof ExtismPlugin.load>[1] = {}) =>
  ExtismPlugin.load(wasm(name), { cacheDir: tempDir(), ...options })

test('an AssemblyScript-PDK echo plugin: strings and bytes, sync and async', async (t) => {
  const plugin = await load('echo')
  t.true(plugin.functionExists('echo'))
  t.false(plugin.functionExists('nope'))
  t.is(text(plugin.callSync('echo', 'hello wasm')), 'hello wasm')
  t.is(text(plugin.callSync('echo', 'héllo ✓ 🌍')), 'héllo ✓ 🌍')
  const bytes = new Uint8Array([0, 1, 2, 250, 255])
  t.deepEqual(plugin.callSync('echo', bytes), bytes)
  t.is(text(await plugin.call('echo', 'async hello')), 'async hello')
  const big = new Uint8Array(1 << 20).map((_, i) => i % 251)
  t.deepEqual(await plugin.call('echo', big), big)
  t.is(failureSync(t, () => plugin.callSync('nope'))?.code, 'UNSUPPORTED')
})

test('loading from bytes works like loading from a path', async (t) => {
  const plugin = await ExtismPlugin.load(readFileSync(wasm('echo')), { cacheDir: tempDir() })
  t.is(text(plugin.callSync('echo', 'from bytes')), 'from bytes')
})

test('count_vowels reads its config and keeps vars between calls', async (t) => {
  const plugin = await load('count_vowels', { config: { thing: 'a config value' } })
  t.deepEqual(JSON.parse(text(plugin.callSync('count_vowels', 'Hello World'))), {
    count: 3,
    total: 3,
    thing: 'a config value',
  })
  t.deepEqual(JSON.parse(text(await plugin.call('count_vowels', 'aeiou'))), {
    count: 5,
    total: 8,
    thing: 'a config value',
  })
  const bare = await load('count_vowels')
  t.deepEqual(JSON.parse(text(bare.callSync('count_vowels', 'xyz'))), { count: 0, total: 0, thing: null })
})

// Timed tests run serially: no other test of this file compiles or blocks the event loop beside them.
test.serial('an endless loop hits the timeout, and the next call works', async (t) => {
  const plugin = await load('hostile', { timeoutMs: WASM_TIMEOUT_MS })
  const [error, ms] = await timed(() => failure(t, plugin.call('spin')))
  t.is(error?.code, 'PLUGIN_TIMEOUT')
  t.true(ms >= WASM_TIMEOUT_MS - 1 && ms < WASM_TIMEOUT_MS + SLACK_MS, `took ${ms} ms`)
  t.is(failureSync(t, () => plugin.callSync('spin'))?.code, 'PLUGIN_TIMEOUT')
  t.is(text(plugin.callSync('echo', 'alive')), 'alive')
})

test('traps are PLUGIN_TRAPPED and the instance is rebuilt', async (t) => {
  const plugin = await load('hostile')
  for (const fn of ['unreachable', 'overflow', 'out_of_bounds']) {
    const error = failureSync(t, () => plugin.callSync(fn))
    t.is(error?.code, 'PLUGIN_TRAPPED', fn)
    t.is(text(plugin.callSync('echo', fn)), fn)
  }
})

test('growing memory past maxPages is PLUGIN_OUT_OF_MEMORY', async (t) => {
  const plugin = await load('hostile', { maxPages: 64 })
  t.is((await failure(t, plugin.call('grow')))?.code, 'PLUGIN_OUT_OF_MEMORY')
  t.is(text(plugin.callSync('echo', 'still here')), 'still here')
})

test.serial('an AbortSignal stops a running call with ABORTED', async (t) => {
  // No timeout: only the abort can end the spin.
  const plugin = await load('hostile', { timeoutMs: 0 })
  const controller = new AbortController()
  const running = plugin.call('spin', '', { signal: controller.signal })
  await new Promise((resolve) => setTimeout(resolve, 50))
  const [error, ms] = await timed(() => {
    controller.abort()
    return failure(t, running)
  })
  t.is(error?.code, 'ABORTED')
  t.true(ms < SLACK_MS, `took ${ms} ms`)
  t.is((await failure(t, plugin.call('echo', 'x', { signal: controller.signal })))?.code, 'ABORTED')
  t.is(text(await plugin.call('echo', 'after abort')), 'after abort')
})

test('close() interrupts a running call and refuses new ones', async (t) => {
  const plugin = await load('hostile', { timeoutMs: 0 })
  const running = plugin.call('spin')
  await new Promise((resolve) => setTimeout(resolve, 50))
  plugin.close()
  t.is((await failure(t, running))?.code, 'ABORTED')
  t.is(failureSync(t, () => plugin.callSync('echo', 'x'))?.code, 'ABORTED')
})

test('close() and an abort end a call wherever it is: queued, starting its instance, or running', async (t) => {
  // No timeout: a cancel that missed the call would leave it spinning for ever. A plugin that
  // has just trapped makes a fresh instance for its next call, so that call is a while starting.
  const cacheDir = tempDir()
  for (let round = 0; round < 24; round++) {
    const plugin = await ExtismPlugin.load(wasm('hostile'), { cacheDir, timeoutMs: 0 })
    if (round % 2 === 1) t.is(failureSync(t, () => plugin.callSync('unreachable'))?.code, 'PLUGIN_TRAPPED')
    const controller = new AbortController()
    const running = failure(t, plugin.call('spin', '', { signal: controller.signal }))
    await new Promise((resolve) => setTimeout(resolve, round % 4))
    if (round % 4 < 2) plugin.close()
    else controller.abort()
    let timer: NodeJS.Timeout | undefined
    const ended = await Promise.race([
      running,
      new Promise<'still running'>(
        (resolve) => (timer = setTimeout(() => resolve('still running'), SLACK_MS)),
      ),
    ])
    clearTimeout(timer)
    t.is(typeof ended === 'string' ? ended : ended?.code, 'ABORTED', `round ${round}`)
    plugin.close()
  }
})

test('start-up code runs once per instance, under the host; its entry points are not callable', async (t) => {
  const plugin = await load('start_counter')
  t.teardown(() => plugin.close())
  // The start function, then `_initialize`, each once.
  t.is(text(plugin.callSync('runs')), '11')
  t.is(text(plugin.callSync('runs')), '11')
  // A command's `_start` ends the instance: the next call gets a fresh one, started again once.
  plugin.callSync('_start')
  t.is(text(plugin.callSync('runs')), '11')
  t.true(plugin.functionExists('runs'))
  t.false(plugin.functionExists('__modelport_start'))
  const error = failureSync(t, () => plugin.callSync('__modelport_start'))
  t.is(error?.code, 'UNSUPPORTED')
  t.is(text(plugin.callSync('runs')), '11')
})

test('broken modules are PLUGIN_LOAD_FAILED with the path', async (t) => {
  const cases: Array<[string, RegExp]> = [
    [tempFile('empty.wasm', ''), /empty/],
    [tempFile('text.wasm', 'not wasm at all'), /not a Wasm module/],
    [tempFile('truncated.wasm', readFileSync(wasm('echo')).subarray(0, 100)), /malformed.*end-of-file/],
    ['/nonexistent/plugin.wasm', /cannot read/],
  ]
  for (const [path, reason] of cases) {
    const error = await failure(t, ExtismPlugin.load(path, { cacheDir: tempDir() }))
    t.is(error?.code, 'PLUGIN_LOAD_FAILED', path)
    t.is(error?.path, path)
    t.regex(error?.message ?? '', reason)
  }
})

test('a second process loads the module from the compiled cache', async (t) => {
  const cacheDir = tempDir()
  const script = `
    const { ExtismPlugin } = require('modelport')
    ExtismPlugin.load(${JSON.stringify(wasm('count_vowels'))}, { cacheDir: ${JSON.stringify(cacheDir)} })
      .then((p) => console.log(JSON.stringify({ cached: p.compiledFromCache, out: Buffer.from(p.callSync('count_vowels', 'aa')).toString() })))`
  const run = () =>
    new Promise<{ cached: boolean; out: string }>((resolve, reject) =>
      execFile(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' }, (error, stdout, stderr) =>
        error ? reject(new Error(stderr)) : resolve(JSON.parse(stdout) as { cached: boolean; out: string }),
      ),
    )
  const first = await run()
  const second = await run()
  t.false(first.cached)
  t.true(second.cached)
  t.is(second.out, first.out)
})

test("enableWasiOutput sends the plugin's WASI stdout and stderr to the process's; without it they are discarded", async (t) => {
  const cacheDir = tempDir()
  // A child process, whose own stdout and stderr are the ones the plugin writes to.
  const run = (enableWasiOutput: boolean) => {
    const script = `
      const { ExtismPlugin } = require('modelport')
      ExtismPlugin.load(${JSON.stringify(wasm('files'))}, { wasi: true, enableWasiOutput: ${enableWasiOutput}, cacheDir: ${JSON.stringify(cacheDir)} })
        .then(async (p) => {
          const answer = Buffer.from(await p.call('print', 'printed by the plugin\\n')).toString()
          process.stdout.write('answer: ' + answer + '\\n')
          await p.close()
        })`
    return new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
      execFile(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' }, (error, stdout, stderr) =>
        error ? reject(new Error(stderr)) : resolve({ stdout, stderr }),
      ),
    )
  }
  const shown = await run(true)
  t.is(shown.stdout, 'printed by the plugin\nanswer: ok\n')
  t.is(shown.stderr, 'printed by the plugin\n')
  const discarded = await run(false)
  t.is(discarded.stdout, 'answer: ok\n')
  t.is(discarded.stderr, '')

  const error = await failure(t, load('files', { enableWasiOutput: true }))
  t.is(error?.code, 'CONFIG_INVALID')
  t.regex(error?.message ?? '', /needs WASI/)
})
