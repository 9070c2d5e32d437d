// Host functions for raw Extism plugins, the `@extism/extism` way: a plugin built with the
// AssemblyScript PDK (wasm/as/host_functions.ts) imports `extism:host/user` functions, and these
// tests give them as JavaScript functions.
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'

import test from 'ava'
import { CallContext, ExtismPlugin, type HostFunction, ModelportError } from 'modelport'

import {
  failure,
  failureSync,
  root,
  SLACK_MS,
  SLOW_PATH_MS,
  tempDir,
  timed,
  WASM_TIMEOUT_MS,
  wasm,
} from './helpers'

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8')
const fixture = wasm('host_functions')

/** Host functions for every import of the fixture; `overrides` replace some. */
function hostFunctions(overrides: Record<string, HostFunction> = {}) {
  const notes: string[] = []
  const functions: Record<string, HostFunction> = {
    transform: (ctx: CallContext, offset: bigint) =>
      ctx.store(`${ctx.read(offset)!.text().toUpperCase()} for ${String(ctx.hostContext())}`),
    add_i32: (_ctx: CallContext, a: number, b: number) => a + b,
    add_i64: (_ctx: CallContext, a: bigint, b: bigint) => a + b,
    halve: (_ctx: CallContext, x: number) => x / 2,
    note: (ctx: CallContext, offset: bigint) => {
      notes.push(ctx.read(offset)!.text())
    },
    ...overrides,
  }
  return { functions: { 'extism:host/user': functions }, notes }
}

const load = (functions: ReturnType<typeof hostFunctions>['functions'], options = {}) =>
  ExtismPlugin.load(fixture, { cacheDir: tempDir(), functions, ...options })

test('host functions run in callSync (inline) and call (on the JS thread), with memory, numbers and hostContext', async (t) => {
  const plugin = await load(hostFunctions().functions)
  t.is(
    text(plugin.callSync('transform_input', 'hello', { hostContext: 'sync caller' })),
    'HELLO for sync caller',
  )
  t.is(
    text(await plugin.call('transform_input', 'héllo ✓', { hostContext: { toString: () => 'an object' } })),
    'HÉLLO ✓ for an object',
  )
  // i32 as numbers, i64 as bigints, f64 as numbers, both ways.
  t.is(text(plugin.callSync('numbers')), '42 1099511627777 2.5')
  t.is(text(await plugin.call('numbers')), '42 1099511627777 2.5')
})

test('an async host function works with call(); with callSync() it is UNSUPPORTED, saying why', async (t) => {
  const { functions } = hostFunctions({
    transform: async (ctx: CallContext, offset: bigint) => {
      const input = ctx.read(offset)!.text()
      await new Promise((resolve) => setTimeout(resolve, 20))
      // The context still works after the await: the plugin waits for the promise.
      return ctx.store(`later: ${input}`)
    },
  })
  const plugin = await load(functions)
  t.is(text(await plugin.call('transform_input', 'x')), 'later: x')
  const error = failureSync(t, () => plugin.callSync('transform_input', 'x'))
  t.is(error?.code, 'UNSUPPORTED')
  t.regex(error?.message ?? '', /extism:host\/user::transform answered a promise.*call\(\)/)
  // The plugin goes on working.
  t.is(text(await plugin.call('transform_input', 'y')), 'later: y')
})

test('a host function that throws fails the call with HOST_FUNCTION_ERROR and the thrown error as cause', async (t) => {
  const thrown = new Error('the host refused')
  const { functions } = hostFunctions({
    transform: () => {
      throw thrown
    },
    add_i32: async () => {
      throw new RangeError('async refusal')
    },
  })
  const plugin = await load(functions)
  const sync = failureSync(t, () => plugin.callSync('transform_input', 'x'))
  t.is(sync?.code, 'HOST_FUNCTION_ERROR')
  t.regex(sync?.message ?? '', /extism:host\/user::transform threw.*the host refused/)
  t.is(sync?.cause, thrown)
  const async = await failure(t, plugin.call('transform_input', 'x'))
  t.is(async?.code, 'HOST_FUNCTION_ERROR')
  t.is(async?.cause, thrown)
  const rejected = await failure(t, plugin.call('numbers'))
  t.is(rejected?.code, 'HOST_FUNCTION_ERROR')
  t.true(rejected?.cause instanceof RangeError)
  // A wrong answer (a string where the import returns an i64) is typed too.
  const wrong = await load(hostFunctions({ add_i64: () => 'seven' }).functions)
  const answer = failureSync(t, () => wrong.callSync('numbers'))
  t.is(answer?.code, 'HOST_FUNCTION_ERROR')
  t.regex(answer?.message ?? '', /add_i64 answered a String where the module expects an i64/)
  // Nothing leaked: the first plugin still answers.
  t.is(text(await load(hostFunctions().functions).then((p) => p.call('numbers'))), '42 1099511627777 2.5')
})

test('imports are checked at load: a missing host function or a wrong arity is PLUGIN_LOAD_FAILED naming the import', async (t) => {
  const missing = await failure(t, ExtismPlugin.load(fixture, { cacheDir: tempDir() }))
  t.is(missing?.code, 'PLUGIN_LOAD_FAILED')
  t.regex(
    missing?.message ?? '',
    /imports host function extism:host\/user::\w+, which no `functions` entry provides/,
  )
  const { functions } = hostFunctions()
  delete (functions['extism:host/user'] as Record<string, HostFunction>)['halve']
  t.regex((await failure(t, load(functions)))?.message ?? '', /extism:host\/user::halve/)

  const arity = await failure(
    t,
    load(hostFunctions({ add_i32: (_ctx: CallContext, a: number) => a }).functions),
  )
  t.is(arity?.code, 'PLUGIN_LOAD_FAILED')
  t.regex(
    arity?.message ?? '',
    /add_i32 takes 1 value\(s\) after the context, but the module imports it as \(i32, i32\) -> \(i32\)/,
  )
  // Rest parameters (or the context alone) take any number.
  const variadic = await load(
    hostFunctions({ add_i32: (_ctx: CallContext, ...args: number[]) => args[0]! + args[1]! }).functions,
  )
  t.is(text(variadic.callSync('numbers')), '42 1099511627777 2.5')
  const notFunction = await failure(
    t,
    load({ 'extism:host/user': { transform: 42 as unknown as HostFunction } }),
  )
  t.is(notFunction?.code, 'CONFIG_INVALID')
})

test('vars: a host function sets one the plugin reads, and reads one the plugin set', async (t) => {
  const seen: (string | null)[] = []
  const { functions, notes } = hostFunctions({
    note: (ctx: CallContext, offset: bigint) => {
      const note = ctx.read(offset)!.text()
      seen.push(ctx.getVariable('from_plugin')?.text() ?? null)
      if (note === 'clear') ctx.deleteVariable('from_host')
      else ctx.setVariable('from_host', `host saw ${note}`)
    },
  })
  const plugin = await load(functions)
  t.is(text(plugin.callSync('note_then_read_var', 'first')), 'host saw first')
  t.is(text(await plugin.call('note_then_read_var', 'second')), 'host saw second')
  t.is(text(plugin.callSync('note_then_read_var', 'clear')), '(unset)')
  t.is(text(await plugin.call('set_var_then_note', 'plugin value')), 'done')
  t.deepEqual(seen, [null, null, null, 'plugin value'])
  t.deepEqual(notes, [])
})

test('setError in a host function fails the call with its message; a context used after its call throws', async (t) => {
  let kept: CallContext | undefined
  const { functions } = hostFunctions({
    note: (ctx: CallContext) => {
      kept = ctx
      ctx.setError('refused by the host')
    },
  })
  const plugin = await load(functions)
  const error = failureSync(t, () => plugin.callSync('note_then_read_var', 'x'))
  t.regex(error?.message ?? '', /refused by the host/)
  t.truthy(kept)
  const late = failureSync(t, () => kept!.read(1n))
  t.is(late?.code, 'UNSUPPORTED')
  t.regex(late?.message ?? '', /outside its host function/)
})

test('an async call waiting on a host function is aborted by its signal, and times out with the plugin', async (t) => {
  let entered: (() => void) | undefined
  let kept: CallContext | undefined
  const inHostFunction = new Promise<void>((resolve) => (entered = resolve))
  const { functions } = hostFunctions({
    transform: (ctx: CallContext) => {
      kept = ctx
      entered!()
      return new Promise(() => {})
    },
  })
  // The abort comes once the call waits in its host function (an ordering, not a delay), on a
  // plugin whose timeout is far away: only the signal can end that call.
  const abortable = await load(functions, { timeoutMs: SLOW_PATH_MS })
  const controller = new AbortController()
  const pending = abortable.call('transform_input', 'x', { signal: controller.signal })
  await inHostFunction
  controller.abort()
  const [aborted, abortMs] = await timed(() => failure(t, pending))
  t.is(aborted?.code, 'ABORTED')
  t.true(abortMs < SLACK_MS)
  // The call's thread no longer serves its context: using it throws, it does not wait.
  const late = failureSync(t, () => kept!.read(1n))
  t.is(late?.code, 'UNSUPPORTED')
  t.regex(late?.message ?? '', /outside its host function/)
  const plugin = await load(functions, { timeoutMs: WASM_TIMEOUT_MS })
  const [timedOut, timeoutMs] = await timed(() => failure(t, plugin.call('transform_input', 'x')))
  t.is(timedOut?.code, 'PLUGIN_TIMEOUT')
  t.regex(timedOut?.message ?? '', /extism:host\/user::transform/)
  t.true(timeoutMs < WASM_TIMEOUT_MS + SLACK_MS)
  // Both plugins still serve calls whose host functions answer.
  t.is(text(await abortable.call('numbers')), '42 1099511627777 2.5')
  t.is(text(await plugin.call('numbers')), '42 1099511627777 2.5')
})

test('callSync while an async call of the same plugin waits for its host function is UNSUPPORTED, not a deadlock', async (t) => {
  let release: (() => void) | undefined
  const { functions } = hostFunctions({
    transform: (ctx: CallContext, offset: bigint) => {
      const input = ctx.read(offset)!.text()
      return new Promise<bigint>((resolve) => {
        release = () => resolve(ctx.store(`released ${input}`))
      })
    },
  })
  const plugin = await load(functions)
  const running = plugin.call('transform_input', 'a')
  while (!release) await new Promise((resolve) => setTimeout(resolve, 5))
  const busy = failureSync(t, () => plugin.callSync('numbers'))
  t.is(busy?.code, 'UNSUPPORTED')
  t.regex(busy?.message ?? '', /another call of this plugin is running/)
  release()
  t.is(text(await running), 'released a')
})

test('200 concurrent async calls with host functions on 4 plugins all answer correctly', async (t) => {
  const plugins = await Promise.all(
    [0, 1, 2, 3].map((n) =>
      load(
        hostFunctions({
          transform: async (ctx: CallContext, offset: bigint) => {
            const input = ctx.read(offset)!.text()
            if (Number(input.split(':')[1]) % 3 === 0) await new Promise((resolve) => setImmediate(resolve))
            return ctx.store(`plugin ${n} ${input} ${String(ctx.hostContext())}`)
          },
        }).functions,
      ),
    ),
  )
  const calls = Array.from({ length: 200 }, (_, i) => {
    const n = i % 4
    return plugins[n]!.call('transform_input', `call:${i}`, { hostContext: `ctx-${i}` }).then(text)
  })
  const answers = await Promise.all(calls)
  answers.forEach((answer, i) => t.is(answer, `plugin ${i % 4} call:${i} ctx-${i}`))
})

test('a plugin without host functions that imports one is refused at load, naming it; ModelportError is typed', async (t) => {
  const error = await failure(t, ExtismPlugin.load(fixture, { cacheDir: tempDir(), functions: {} }))
  t.true(error instanceof ModelportError)
  t.is(error?.code, 'PLUGIN_LOAD_FAILED')
  t.is(error?.path, fixture)
})

test('logger and logLevel: plugin log records reach the logger at or above the level, in callSync and call', async (t) => {
  const records: string[] = []
  const logger = {
    debug: (m: string) => records.push(`[debug] ${m}`),
    info: (m: string) => records.push(`[info] ${m}`),
    warn: (m: string) => records.push(`[warn] ${m}`),
    error: (m: string) => records.push(`[error] ${m}`),
  }
  const { functions } = hostFunctions()
  const warnings = await load(functions, { logger, logLevel: 'warn' })
  t.is(text(warnings.callSync('log_levels', 'sync')), 'logged')
  t.is(text(await warnings.call('log_levels', 'async')), 'logged')
  t.deepEqual(records, [
    '[warn] warn: sync',
    '[error] error: sync',
    '[warn] warn: async',
    '[error] error: async',
  ])
  records.length = 0
  const everything = await load(functions, { logger, logLevel: 'debug' })
  await everything.call('log_levels', 'all')
  t.deepEqual(records, ['[debug] debug: all', '[info] info: all', '[warn] warn: all', '[error] error: all'])
  records.length = 0
  const silent = await load(functions, { logger, logLevel: 'silent' })
  silent.callSync('log_levels', 'none')
  await silent.call('log_levels', 'none')
  t.deepEqual(records, [])
  // A logger that throws loses its record, not the call.
  const throwing = await load(functions, {
    logger: {
      info: () => {
        throw new Error('logger broke')
      },
    },
    logLevel: 'info',
  })
  t.is(text(throwing.callSync('log_levels', 'x')), 'logged')
  const bad = await failure(t, load(functions, { logLevel: 'loud' as 'info' }))
  t.is(bad?.code, 'CONFIG_INVALID')
})

test("without a logger, plugin log records go to stderr at MODELPORT_LOG's level, and nowhere without it", async (t) => {
  const script = `
    const { ExtismPlugin } = require('modelport')
    const functions = { 'extism:host/user': {
      transform: (ctx, offset) => offset, add_i32: (ctx, a, b) => a + b, add_i64: (ctx, a, b) => a + b,
      halve: (ctx, x) => x / 2, note: (ctx, offset) => {},
    } }
    ExtismPlugin.load(${JSON.stringify(fixture)}, { functions, cacheDir: ${JSON.stringify(tempDir())} })
      .then(async (p) => {
        console.log(Buffer.from(await p.call('log_levels', 'by default')).toString())
        await p.close()
      })`
  const run = (env: NodeJS.ProcessEnv) =>
    new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
      execFile(
        process.execPath,
        ['-e', script],
        { cwd: root, encoding: 'utf8', env: { ...process.env, MODELPORT_LOG: undefined, ...env } },
        (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve({ stdout, stderr })),
      ),
    )
  const warned = await run({ MODELPORT_LOG: 'warn' })
  t.is(warned.stdout, 'logged\n')
  t.regex(warned.stderr, /warn: by default/)
  t.regex(warned.stderr, /error: by default/)
  t.notRegex(warned.stderr, /(info|debug): by default/)
  const unset = await run({})
  t.is(unset.stdout, 'logged\n')
  t.notRegex(unset.stderr, /by default/)
})

test('the Extism manifest form: one module by path or data, its sha256 checked before compiling', async (t) => {
  const bytes = readFileSync(fixture)
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  const { functions } = hostFunctions()
  const byPath = await ExtismPlugin.load(
    { wasm: [{ path: fixture, hash: sha256 }], config: { a: 'b' } },
    { functions },
  )
  t.is(text(byPath.callSync('numbers')), '42 1099511627777 2.5')
  const byData = await ExtismPlugin.load(
    { wasm: [{ data: bytes, hash: sha256.toUpperCase() }] },
    { functions },
  )
  t.is(text(await byData.call('numbers')), '42 1099511627777 2.5')
  const wrong = '0'.repeat(64)
  const mismatch = await failure(
    t,
    ExtismPlugin.load({ wasm: [{ path: fixture, hash: wrong }] }, { functions }),
  )
  t.is(mismatch?.code, 'PLUGIN_LOAD_FAILED')
  t.regex(mismatch?.message ?? '', new RegExp(`sha256 is ${sha256}, not the manifest's ${wrong}`))
  t.is(mismatch?.path, fixture)
  const two = await failure(
    t,
    ExtismPlugin.load({ wasm: [{ path: fixture }, { path: fixture }] }, { functions }),
  )
  t.is(two?.code, 'UNSUPPORTED')
  const url = await failure(t, ExtismPlugin.load({ wasm: [{ url: 'https://example.com/a.wasm' } as never] }))
  t.is(url?.code, 'UNSUPPORTED')
})

test('getExports, getImports, isActive and reset', async (t) => {
  let release: (() => void) | undefined
  const { functions } = hostFunctions({
    transform: (ctx: CallContext, offset: bigint) => {
      const input = ctx.read(offset)!.text()
      return new Promise<bigint>((resolve) => (release = () => resolve(ctx.store(input))))
    },
  })
  const plugin = await load(functions)
  const exports = plugin.getExports()
  t.true(exports.some((e) => e.name === 'transform_input' && e.kind === 'function'))
  t.true(exports.some((e) => e.name === 'memory' && e.kind === 'memory'))
  const imports = plugin.getImports()
  t.deepEqual(
    imports
      .filter((i) => i.module === 'extism:host/user')
      .map((i) => `${i.name}:${i.kind}`)
      .sort(),
    ['add_i32:function', 'add_i64:function', 'halve:function', 'note:function', 'transform:function'],
  )
  t.true(imports.some((i) => i.module === 'extism:host/env' && i.name === 'alloc'))

  t.false(plugin.isActive())
  const running = plugin.call('transform_input', 'held')
  while (!release) await new Promise((resolve) => setTimeout(resolve, 5))
  t.true(plugin.isActive())
  t.false(plugin.reset(), 'no reset while a call runs')
  release()
  t.is(text(await running), 'held')
  t.false(plugin.isActive())

  // reset() discards vars (and memory): the next call gets a fresh instance.
  const seen: (string | null)[] = []
  const vars = await load(
    hostFunctions({
      note: (ctx: CallContext) => {
        seen.push(ctx.getVariable('from_plugin')?.text() ?? null)
      },
    }).functions,
  )
  await vars.call('set_var_then_note', 'plugin value')
  vars.callSync('note_then_read_var', 'x')
  t.true(vars.reset())
  vars.callSync('note_then_read_var', 'y')
  t.deepEqual(seen, ['plugin value', 'plugin value', null])
})

test('memory.maxVarBytes bounds the vars a host function sets: over it the call fails, naming the budget', async (t) => {
  const { functions } = hostFunctions({
    note: (ctx: CallContext, offset: bigint) => ctx.setVariable('from_host', ctx.read(offset)!.text()),
  })
  const plugin = await load(functions, { memory: { maxVarBytes: 16 } })
  t.is(text(plugin.callSync('note_then_read_var', 'fits')), 'fits')
  const error = failureSync(t, () => plugin.callSync('note_then_read_var', 'x'.repeat(64)))
  t.is(error?.code, 'HOST_FUNCTION_ERROR')
  t.regex(error?.message ?? '', /var budget of 16 bytes/)
  t.is((error?.cause as ModelportError | undefined)?.code, 'PLUGIN_LIMIT_EXCEEDED')
  // The var kept its last value within the budget.
  t.is(text(await plugin.call('note_then_read_var', 'ok')), 'ok')
})

test('host functions reach plugin memory from a worker thread, wherever its stack lies', async (t) => {
  // Plugins whose call threads have ended leave those threads' stacks in the C library's cache,
  // above the worker's stack mapped after them: the worker's plugin then runs its call on a stack
  // above the worker's own. Memory access that entered the plugin from the worker's thread failed
  // there (wasmtime bounds Wasm's stack by the thread that runs the call).
  const { functions } = hostFunctions()
  const earlier = await Promise.all(Array.from({ length: 8 }, () => load(functions)))
  await Promise.all(earlier.map((plugin) => plugin.call('transform_input', 'x')))
  for (const plugin of earlier) plugin.close()

  const worker = new Worker(join(root, '__test__', 'children', 'host-functions-worker.mjs'), {
    workerData: { fixture, cacheDir: tempDir() },
  })
  // Its answer, or how it ended without one (an exit code, an error).
  const answers: unknown[] = []
  worker.on('message', (answer) => answers.push(answer))
  const ended = await new Promise<unknown>((resolve) => {
    worker.on('error', (error) => resolve(error))
    worker.on('exit', (code) => resolve(code))
  })
  t.deepEqual(answers, [{ viaCall: 'FROM A WORKER (13 bytes)', viaCallSync: 'INLINE (6 bytes)' }])
  t.is(ended, 0)
})
