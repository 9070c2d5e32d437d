// One test or more per case of docs/reliability.md, numbered as there. Each checks the
// error code, the next call on the plugin under test, and that bystanders (a native provider, a
// Wasm provider and a raw Wasm plugin, loaded once for the whole file) still answer. Case 8
// (abort/segfault) needs a child process: panics.spec.ts. Deeper variants of cases 9, 14 and
// 17–21 live in the feature specs (wasm-provider, config, lifecycle, streaming, openai).
import { readFileSync, readdirSync, symlinkSync, mkdirSync, writeFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'

import test, { type ExecutionContext } from 'ava'
import {
  type ChatStreamEvent,
  ExtismPlugin,
  type Message,
  PluginRegistry,
  type Provider,
  type ProviderEntry,
} from 'modelport'
import { type MockOpenAI, type MockOpenAIOptions, startMockOpenAI } from 'modelport/testing'

import {
  eventually,
  failure,
  fixture,
  plugin,
  SLACK_MS,
  SLOW_PATH_MS,
  tempDir,
  tempFile,
  TIME_SCALE,
  timed,
  WASM_TIMEOUT_MS,
  wasm,
  wasmProvider,
} from './helpers'

const cacheDir = tempDir()
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes)
const user = (content: string): Message[] => [{ role: 'user', content }]

let bystanders: { raw: ExtismPlugin; native: Provider; wasm: Provider; registry: PluginRegistry }

test.before(async () => {
  const registry = await PluginRegistry.fromConfig({
    providers: [
      { name: 'native-bystander', path: plugin('scripted') },
      { name: 'wasm-bystander', path: wasmProvider('echo_provider') },
    ],
    cache_dir: cacheDir,
  })
  bystanders = {
    raw: await ExtismPlugin.load(wasm('echo'), { cacheDir }),
    native: await registry.builder('native-bystander').build(),
    wasm: await registry.builder('wasm-bystander').build(),
    registry,
  }
})

test.after.always(async () => {
  bystanders.raw.close()
  await bystanders.registry.close()
})

/** The host and the other plugins still work. */
async function bystandersUnaffected(t: ExecutionContext): Promise<void> {
  t.is(decode(bystanders.raw.callSync('echo', 'still here')), 'still here')
  t.is((await bystanders.native.chat(user('still here'))).text, 'still here')
  t.is((await bystanders.wasm.chat(user('still here'))).text, 'still here')
}

async function mock(t: ExecutionContext, options: MockOpenAIOptions = {}): Promise<MockOpenAI> {
  const server = await startMockOpenAI(options)
  t.teardown(() => server.close())
  return server
}

async function registryOf(t: ExecutionContext, providers: ProviderEntry[]): Promise<PluginRegistry> {
  const registry = await PluginRegistry.fromConfig({ providers, cache_dir: cacheDir })
  t.teardown(() => registry.close())
  return registry
}

function hostileEntry(url: string, host: Partial<ProviderEntry> = {}): ProviderEntry {
  return { name: 'hostile', path: wasmProvider('hostile_v2'), config: { base_url: url }, ...host }
}

// 1. Wasm infinite loops ---------------------------------------------------------------------

/** Asserts that a call that ended by its timeout took at least `timeoutMs` (the timer starts when
 * the call does, after the caller's clock) and not much more. */
function endedAtTimeout(t: ExecutionContext, ms: number, timeoutMs = WASM_TIMEOUT_MS): void {
  t.true(ms >= timeoutMs - 1 && ms < timeoutMs + SLACK_MS, `${ms} ms for a ${timeoutMs} ms timeout`)
}

test.serial(
  '1. a Wasm loop in a call stops at timeoutMs with PLUGIN_TIMEOUT; the next call works',
  async (t) => {
    const raw = await ExtismPlugin.load(wasm('hostile'), { timeoutMs: WASM_TIMEOUT_MS, cacheDir })
    t.teardown(() => raw.close())
    const [error, ms] = await timed(() => failure(t, raw.call('spin')))
    t.is(error?.code, 'PLUGIN_TIMEOUT')
    endedAtTimeout(t, ms)
    t.is(decode(await raw.call('echo', 'next')), 'next')

    const server = await mock(t)
    const registry = await registryOf(t, [hostileEntry(server.url, { timeout_ms: WASM_TIMEOUT_MS })])
    const spinning = await registry.builder('hostile').parameter('mode', 'spin').build()
    const [chatError, chatMs] = await timed(() => failure(t, spinning.chat(user('x'))))
    t.is(chatError?.code, 'PLUGIN_TIMEOUT')
    t.is(chatError?.plugin, 'hostile')
    endedAtTimeout(t, chatMs)
    const healthy = await registry.builder('hostile').build()
    t.regex((await healthy.chat(user('x'))).text ?? '', /Echo: probe/)
    await bystandersUnaffected(t)
  },
)

for (const fixtureName of ['start_loop', 'initialize_loop'] as const) {
  test.serial(
    `1. a Wasm loop in start-up (${fixtureName}) fails the load with PLUGIN_TIMEOUT at timeoutMs`,
    async (t) => {
      const [error, ms] = await timed(() =>
        failure(t, ExtismPlugin.load(wasm(fixtureName), { timeoutMs: WASM_TIMEOUT_MS, cacheDir })),
      )
      t.is(error?.code, 'PLUGIN_TIMEOUT')
      t.is(error?.path, wasm(fixtureName))
      t.regex(error?.message ?? '', /start-up/)
      endedAtTimeout(t, ms)

      // As a provider beside a healthy one (registries take `.wasm` files; Extism reads WAT text
      // too): its load fails alone.
      const module = tempFile(`${fixtureName}.wasm`, readFileSync(wasm(fixtureName)))
      const registry = await registryOf(t, [
        { name: 'looping', path: module, timeout_ms: WASM_TIMEOUT_MS },
        { name: 'echo', path: wasmProvider('echo_provider') },
      ])
      const reports = await registry.loadAll()
      t.like(reports[0], { name: 'looping', ok: false, error: { code: 'PLUGIN_TIMEOUT', plugin: 'looping' } })
      t.like(reports[1], { name: 'echo', ok: true })
      t.is((await (await registry.builder('echo').build()).chat(user('next'))).text, 'next')
      await bystandersUnaffected(t)
    },
  )
}

// 2. Memory bombs ----------------------------------------------------------------------------

test.serial('2. memory.grow until refused is PLUGIN_OUT_OF_MEMORY, and host RSS stays flat', async (t) => {
  const raw = await ExtismPlugin.load(wasm('hostile'), { maxPages: 1024, cacheDir })
  t.teardown(() => raw.close())
  raw.callSync('echo', 'warm up')
  const before = process.memoryUsage().rss
  for (let i = 0; i < 5; i++) {
    const error = await failure(t, raw.call('grow'))
    t.is(error?.code, 'PLUGIN_OUT_OF_MEMORY')
  }
  // Five 64 MiB bombs: kept, they would add 320 MiB.
  const grown = process.memoryUsage().rss - before
  t.true(grown < 64 * 2 ** 20, `RSS grew ${grown >> 20} MiB`)
  t.is(decode(await raw.call('echo', 'next')), 'next')

  // A huge allocation inside a provider (a 100 M-character answer under a 16 MiB cap).
  const registry = await registryOf(t, [
    { name: 'flood', path: wasmProvider('flood_v1'), max_memory_pages: 256 },
  ])
  const flood = await registry.builder('flood').build()
  const error = await failure(t, flood.chat(user('100000000')))
  t.is(error?.code, 'PLUGIN_OUT_OF_MEMORY')
  t.is((await flood.chat(user('3'))).text, 'xxx')
  await bystandersUnaffected(t)
})

test("2. a module's initial memory and its tables count against the cap; tables cannot grow unbounded", async (t) => {
  const number = (bytes: Uint8Array) => Number(Buffer.from(bytes).readBigUInt64LE())
  // 1000 pages to start with, Extism's 16 and a table's page count against the cap: 1000 pages
  // more fit in 2048, 1000 more again do not.
  const raw = await ExtismPlugin.load(wasm('bounds'), { maxPages: 2048, cacheDir })
  t.teardown(() => raw.close())
  t.is(number(raw.callSync('grow_memory_1000')), 2000)
  t.is((await failure(t, raw.call('grow_memory_1000')))?.code, 'PLUGIN_OUT_OF_MEMORY')
  // A table without a maximum stays at its size (it would otherwise take 8 bytes an element,
  // up to 2³² elements, outside the memory cap).
  const before = process.memoryUsage().rss
  t.is(number(raw.callSync('grow_table')), 1)
  t.true(process.memoryUsage().rss - before < 64 * 2 ** 20)
  // Its start and as much growth do not fit 1024 pages: the module does not load.
  const error = await failure(t, ExtismPlugin.load(wasm('bounds'), { maxPages: 1024, cacheDir }))
  t.is(error?.code, 'PLUGIN_LOAD_FAILED')
  t.regex(error?.message ?? '', /memories start at 1000 pages.*max_memory_pages >= 2033, not 1024/)
  await bystandersUnaffected(t)
})

// 3. Huge output, a million tiny chunks ------------------------------------------------------

test('3. a 300 MiB output is refused by the memory cap (PLUGIN_OUT_OF_MEMORY), never copied', async (t) => {
  const raw = await ExtismPlugin.load(wasm('hostile'), { cacheDir })
  t.teardown(() => raw.close())
  const error = await failure(t, raw.call('huge_output'))
  t.is(error?.code, 'PLUGIN_OUT_OF_MEMORY')
  t.is(decode(raw.callSync('echo', 'next')), 'next')
  await bystandersUnaffected(t)
})

test.serial(
  '3. a stream of a million tiny chunks is delivered whole, with bounded host memory',
  async (t) => {
    // A v1 stream is one Wasm call, and its timeout covers the whole stream (README: Current
    // limitations): ~25 s for a million chunks on 2 cores, past the 30 s default on a busy machine.
    const registry = await registryOf(t, [
      { name: 'flood', path: wasmProvider('flood_v1'), timeout_ms: 300_000 * TIME_SCALE },
    ])
    const flood = await registry.builder('flood').build()
    const before = process.memoryUsage().rss
    let texts = 0
    let last: ChatStreamEvent | undefined
    for await (const event of flood.chatStream(user('1000000'))) {
      if (event.type === 'text') texts += 1
      last = event
    }
    t.is(texts, 1_000_000)
    t.like(last, { type: 'done', finishReason: 'stop' })
    // The plugin cannot run ahead of the reader: the host holds a bounded buffer, not the stream.
    const grown = process.memoryUsage().rss - before
    t.true(grown < 128 * 2 ** 20, `RSS grew ${grown >> 20} MiB`)
    t.is((await flood.chat(user('2'))).text, 'xx')
    await bystandersUnaffected(t)
  },
)

// 4. HTTP response over the cap --------------------------------------------------------------

for (const kind of ['native', 'wasm'] as const) {
  test(`4. ${kind}: a response over max_response_bytes is RESPONSE_TOO_LARGE, never truncated`, async (t) => {
    const server = await mock(t, {
      reply: ({ lastUserText }) => (lastUserText === 'big' ? 'y'.repeat(20_000) : 'small'),
    })
    const path = kind === 'native' ? plugin('openai') : wasmProvider('openai_v2')
    const registry = await registryOf(t, [
      { name: 'p', path, config: { base_url: server.url, model: 'mock-gpt-1' }, max_response_bytes: 4096 },
    ])
    const provider = await registry.builder('p').build()
    t.is((await failure(t, provider.chat(user('big'))))?.code, 'RESPONSE_TOO_LARGE')
    const streamError = await failure(t, provider.chatStream(user('big')).collect())
    t.is(streamError?.code, 'RESPONSE_TOO_LARGE')
    t.is((await provider.chat(user('small'))).text, 'small')
    await bystandersUnaffected(t)
  })
}

// 5. Siblings of a timed-out or cancelled instance --------------------------------------------

test.serial(
  '5. a timeout or cancel of one instance does not trap its siblings from the same module',
  async (t) => {
    // The spinner ends by its timeout. The other two have none: the aborted one can only end by its
    // signal (sent once the timeout has happened), and the sibling is never interrupted unless by
    // its neighbours. The sibling echoes 1 MiB at a time (tens of milliseconds of Wasm per call),
    // back to back until both others have ended, so it is running when they are stopped.
    const [spinner, aborted, sibling] = await Promise.all([
      ExtismPlugin.load(wasm('hostile'), { timeoutMs: WASM_TIMEOUT_MS, cacheDir }),
      ExtismPlugin.load(wasm('hostile'), { timeoutMs: 0, cacheDir }),
      ExtismPlugin.load(wasm('hostile'), { timeoutMs: 0, cacheDir }),
    ])
    t.teardown(() => [spinner, aborted, sibling].forEach((p) => p.close()))
    const events: string[] = []
    const controller = new AbortController()
    const running = Promise.all([
      failure(t, spinner.call('spin')).then((error) => {
        events.push(`timeout: ${error?.code}`)
        controller.abort()
      }),
      failure(t, aborted.call('spin', '', { signal: controller.signal })).then((error) => {
        events.push(`abort: ${error?.code}`)
      }),
    ])
    let settled = false
    void running.finally(() => (settled = true))
    const input = new Uint8Array(1 << 20).map((_, i) => i % 251)
    let siblingCalls = 0
    let wrong = 0
    events.push('sibling calls start')
    while (!settled) {
      const output = await sibling.call('echo', input)
      if (Buffer.compare(output, input) !== 0) wrong += 1
      siblingCalls += 1
    }
    events.push('sibling calls end')
    await running
    t.deepEqual(events, [
      'sibling calls start',
      'timeout: PLUGIN_TIMEOUT',
      'abort: ABORTED',
      'sibling calls end',
    ])
    t.is(wrong, 0, `${wrong} of ${siblingCalls} sibling calls came back wrong`)
    t.is(decode(spinner.callSync('echo', 'spinner')), 'spinner')
    t.is(decode(aborted.callSync('echo', 'aborted')), 'aborted')

    // Providers: a spinning provider and a healthy one share the plugin's compiled module.
    const server = await mock(t)
    const registry = await registryOf(t, [hostileEntry(server.url, { timeout_ms: WASM_TIMEOUT_MS })])
    const spinning = await registry.builder('hostile').parameter('mode', 'spin').build()
    const healthy = await registry.builder('hostile').build()
    const spin = failure(t, spinning.chat(user('x')))
    const answers = await Promise.all(Array.from({ length: 20 }, () => healthy.chat(user('x'))))
    t.true(answers.every((a) => /Echo: probe/.test(a.text ?? '')))
    t.is((await spin)?.code, 'PLUGIN_TIMEOUT')
    await bystandersUnaffected(t)
  },
)

// 6. Traps -----------------------------------------------------------------------------------

test('6. traps (unreachable, stack overflow, out-of-bounds) are PLUGIN_TRAPPED; the instance is rebuilt', async (t) => {
  const raw = await ExtismPlugin.load(wasm('hostile'), { cacheDir })
  t.teardown(() => raw.close())
  for (const fn of ['unreachable', 'overflow', 'out_of_bounds']) {
    const error = await failure(t, raw.call(fn))
    t.is(error?.code, 'PLUGIN_TRAPPED', fn)
    t.is(decode(raw.callSync('echo', `after ${fn}`)), `after ${fn}`)
  }
  const server = await mock(t)
  const registry = await registryOf(t, [hostileEntry(server.url)])
  const trapping = await registry.builder('hostile').parameter('mode', 'trap').build()
  t.is((await failure(t, trapping.chat(user('x'))))?.code, 'PLUGIN_TRAPPED')
  t.regex((await (await registry.builder('hostile').build()).chat(user('x'))).text ?? '', /Echo: probe/)
  await bystandersUnaffected(t)
})

// 7. Native panics ---------------------------------------------------------------------------

const PANIC_METHODS = [
  'from_config',
  'chat_request',
  'parse_chat',
  'classify_error',
  'chat_stream_parser',
  'parse_chunk',
] as const

for (const method of PANIC_METHODS) {
  test(`7. a native panic in ${method} is PLUGIN_PANICKED; the plugin keeps serving`, async (t) => {
    // classify_error runs on non-2xx answers only: give it a server that refuses the key.
    const server = await mock(t, method === 'classify_error' ? { apiKey: 'required' } : {})
    const registry = await registryOf(t, [
      { name: 'panicky', path: fixture('panicky'), config: { base_url: server.url } },
    ])
    const streamed = method === 'chat_stream_parser' || method === 'parse_chunk'
    const error = await failure(t, async () => {
      const provider = await registry.builder('panicky').parameter('panic_in', method).build()
      await (streamed ? provider.chatStream(user('x')).collect() : provider.chat(user('x')))
    })
    t.is(error?.code, 'PLUGIN_PANICKED')
    t.is(error?.plugin, 'panicky')
    t.regex(error?.message ?? '', new RegExp(`panicked in ${method}: fixture panic in ${method} \\(at `))

    const open = await mock(t)
    const healthy = await registry.builder('panicky').parameter('base_url', open.url).build()
    t.is((await healthy.chat(user('after'))).text, 'Echo: after')
    t.like(await healthy.chatStream(user('after')).collect(), { finishReason: 'stop' })
    await bystandersUnaffected(t)
  })
}

test('7. a panic in the plugin factory is PLUGIN_PANICKED at load; the others load', async (t) => {
  const registry = await registryOf(t, [
    { name: 'bad', path: fixture('panic_in_factory') },
    { name: 'bot', path: plugin('scripted') },
  ])
  const [bad, bot] = await registry.loadAll()
  t.like(bad, { ok: false, error: { code: 'PLUGIN_PANICKED', plugin: 'bad' } })
  t.like(bot, { ok: true })
  t.is((await (await registry.builder('bot').build()).chat(user('next'))).text, 'next')
  await bystandersUnaffected(t)
})

// 9. Network: deny by default ----------------------------------------------------------------

test('9. a host outside the allow-list (an IP literal, another loopback name) is HOST_NOT_ALLOWED', async (t) => {
  const server = await mock(t)
  const registry = await registryOf(t, [hostileEntry(server.url)])
  for (const target of [`http://localhost:${server.port}/v1`, `http://127.0.0.2:${server.port}/v1`]) {
    const exfiltrating = await registry.builder('hostile').parameters({ mode: 'exfiltrate', target }).build()
    const error = await failure(t, exfiltrating.chat(user('x')))
    t.is(error?.code, 'HOST_NOT_ALLOWED', target)
  }
  t.is(server.requests.length, 0)
  t.regex((await (await registry.builder('hostile').build()).chat(user('x'))).text ?? '', /Echo: probe/)
  await bystandersUnaffected(t)
})

// 10. Environment ----------------------------------------------------------------------------

test.serial('10. a canary variable in the host environment is never visible to a Wasm plugin', async (t) => {
  process.env['MODELPORT_CANARY'] = 'canary-secret'
  t.teardown(() => delete process.env['MODELPORT_CANARY'])
  // WASI: the plugin's environment is empty.
  const raw = await ExtismPlugin.load(wasm('files'), { wasi: true, cacheDir })
  t.teardown(() => raw.close())
  t.is(decode(raw.callSync('environ_count')), 'ok', 'zero environment variables')
  // Extism config: only the variables the entry names.
  const server = await mock(t)
  const registry = await registryOf(t, [hostileEntry(server.url, { env: ['HOSTILE_VISIBLE'] })])
  const probing = await registry
    .builder('hostile')
    .parameters({ mode: 'env', probe: ['MODELPORT_CANARY', 'PATH', 'HOME'] })
    .build()
  await probing.chat(user('x'))
  const body = server.requests.at(-1)?.body as { seen: Record<string, string | null> }
  t.deepEqual(body.seen, { MODELPORT_CANARY: null, PATH: null, HOME: null })
  t.is(decode(raw.callSync('environ_count')), 'ok')
  await bystandersUnaffected(t)
})

// 11. Filesystem -----------------------------------------------------------------------------

test('11. no access without a grant; `../` and symlinks cannot escape a grant', async (t) => {
  const base = tempDir()
  const grant = join(base, 'grant')
  mkdirSync(grant)
  writeFileSync(join(grant, 'inside.txt'), 'inside')
  writeFileSync(join(base, 'secret.txt'), 'secret')
  symlinkSync(join(base, 'secret.txt'), join(grant, 'absolute-link'))
  symlinkSync('../secret.txt', join(grant, 'relative-link'))

  const ungranted = await ExtismPlugin.load(wasm('files'), { wasi: true, cacheDir })
  t.teardown(() => ungranted.close())
  t.regex(decode(ungranted.callSync('read', 'inside.txt')), /^errno/)

  const granted = await ExtismPlugin.load(wasm('files'), {
    wasi: true,
    allowedPaths: { [grant]: '/data' },
    cacheDir,
  })
  t.teardown(() => granted.close())
  t.is(decode(granted.callSync('read', 'inside.txt')), 'inside')
  for (const escape of ['../secret.txt', 'absolute-link', 'relative-link', `${base}/secret.txt`]) {
    t.regex(decode(granted.callSync('read', escape)), /^errno/, escape)
  }
  t.regex(decode(granted.callSync('write', '../planted.txt')), /^errno/)
  t.false(existsSync(join(base, 'planted.txt')))
  // A symlink the plugin plants inside its grant cannot lead out either.
  t.is(decode(granted.callSync('symlink', '../secret.txt')), 'ok')
  t.regex(decode(granted.callSync('read', 'planted')), /^errno/)
  t.is(readFileSync(join(base, 'secret.txt'), 'utf8'), 'secret')
  t.is(decode(granted.callSync('write', 'new.txt')), 'ok', 'a writable grant is writable')

  await bystandersUnaffected(t)
})

test('11. a read-only grant (ro:) reads, and cannot write, create, truncate, rename or delete, through any handle', async (t) => {
  const base = tempDir()
  const grant = join(base, 'grant')
  mkdirSync(join(grant, 'sub'), { recursive: true })
  mkdirSync(join(grant, 'empty'))
  writeFileSync(join(grant, 'inside.txt'), 'inside')
  writeFileSync(join(grant, 'sub', 'note.txt'), 'note')
  const before = () => ({
    top: readdirSync(grant).sort(),
    sub: readdirSync(join(grant, 'sub')).sort(),
    inside: readFileSync(join(grant, 'inside.txt'), 'utf8'),
  })
  const untouched = before()

  const plugin = await ExtismPlugin.load(wasm('files'), {
    wasi: true,
    allowedPaths: { [`ro:${grant}`]: '/data' },
    cacheDir,
  })
  t.teardown(() => plugin.close())
  t.is(decode(plugin.callSync('read', 'inside.txt')), 'inside')
  t.is(decode(plugin.callSync('read', 'sub/note.txt')), 'note')
  const attempts: Array<[string, string]> = [
    ['write', 'new.txt'],
    ['write', 'inside.txt'],
    ['overwrite', 'inside.txt'],
    ['truncate', 'inside.txt'],
    ['set_size', 'inside.txt'],
    // A folder opened through the grant (extism 1.30 handed it out writable), and the grant's own.
    ['write_in_folder', 'sub'],
    ['write_in_folder', '.'],
    ['mkdir', 'made'],
    ['symlink', 'inside.txt'],
    ['unlink', 'inside.txt'],
    ['unlink', 'sub/note.txt'],
    ['rmdir', 'empty'],
    ['rename', 'inside.txt'],
    ['rename', 'sub'],
  ]
  for (const [action, path] of attempts)
    t.regex(decode(plugin.callSync(action, path)), /^errno/, `${action} ${path}`)
  t.deepEqual(before(), untouched, 'nothing in the grant changed')

  // With a writable grant beside it (fd 3; the read-only one sorts after it, fd 4): nothing moves
  // into or out of the read-only grant.
  const writable = join(base, 'writable')
  mkdirSync(writable)
  writeFileSync(join(writable, 'mine.txt'), 'mine')
  const both = await ExtismPlugin.load(wasm('files'), {
    wasi: true,
    allowedPaths: { [writable]: '/work', [`ro:${grant}`]: '/data' },
    cacheDir,
  })
  t.teardown(() => both.close())
  t.is(decode(both.callSync('read_second', 'inside.txt')), 'inside')
  t.regex(decode(both.callSync('rename_into_second', 'mine.txt')), /^errno/)
  t.regex(decode(both.callSync('rename_out_of_second', 'inside.txt')), /^errno/)
  t.is(decode(both.callSync('write', 'made.txt')), 'ok', 'the writable grant stays writable')
  t.deepEqual(readdirSync(writable).sort(), ['made.txt', 'mine.txt'])
  t.deepEqual(before(), untouched)
  await bystandersUnaffected(t)
})

// 12. Broken files ---------------------------------------------------------------------------

function flipped(bytes: Buffer, offset: number): Buffer {
  const copy = Buffer.from(bytes)
  copy[offset] = copy[offset]! ^ 0xff
  return copy
}

test('12. empty, truncated, bit-flipped and wrong-architecture files are PLUGIN_LOAD_FAILED with the path', async (t) => {
  const module = readFileSync(wasm('echo'))
  const library = readFileSync(plugin('scripted'))
  // RISC-V (e_machine 243): no platform modelport ships for.
  const riscv = Buffer.from(library)
  riscv.writeUInt16LE(243, 18)
  const broken: Array<[string, string]> = [
    ['empty .wasm', tempFile('empty.wasm', '')],
    ['truncated .wasm', tempFile('truncated.wasm', module.subarray(0, module.length / 2))],
    ['bit-flipped .wasm', tempFile('flipped.wasm', flipped(module, 8))],
    ['empty .so', tempFile('empty.so', '')],
    ['truncated .so', tempFile('truncated.so', library.subarray(0, 4096))],
    // A flipped bit in the header's program-header entry size (e_phentsize).
    ['bit-flipped .so', tempFile('flipped.so', flipped(library, 0x36))],
    ['RISC-V .so', tempFile('riscv.so', riscv)],
  ]
  const registry = await registryOf(t, [
    ...broken.map(([name, path]) => ({ name, path })),
    { name: 'bot', path: plugin('scripted') },
  ])
  const reports = await registry.loadAll()
  for (const [i, [name, path]] of broken.entries()) {
    t.like(reports[i], { name, ok: false, error: { code: 'PLUGIN_LOAD_FAILED', plugin: name, path } }, name)
    t.truthy(reports[i]?.error?.message, name)
  }
  t.like(reports.at(-1), { ok: true })
  t.is((await (await registry.builder('bot').build()).chat(user('next'))).text, 'next')
  await bystandersUnaffected(t)
})

// 13. ABI ------------------------------------------------------------------------------------

test('13. another ABI version or no ABI descriptor is ABI_MISMATCH naming both sides', async (t) => {
  const registry = await registryOf(t, [
    { name: 'other', path: fixture('abi_future') },
    { name: 'bare', path: fixture('no_descriptor') },
    { name: 'bot', path: plugin('scripted') },
  ])
  const [other, bare, bot] = await registry.loadAll()
  t.like(other, { ok: false, error: { code: 'ABI_MISMATCH', plugin: 'other' } })
  t.regex(other?.error?.message ?? '', /plugin implements ABI version 99.*host supports ABI version 1/)
  t.like(bare, { ok: false, error: { code: 'ABI_MISMATCH', plugin: 'bare' } })
  t.like(bot, { ok: true })
  await bystandersUnaffected(t)
})

// 14. Config ---------------------------------------------------------------------------------

test('14. schema violations are CONFIG_SCHEMA_VIOLATION before plugin code runs; bad files CONFIG_INVALID', async (t) => {
  const server = await mock(t)
  const registry = await registryOf(t, [
    {
      name: 'native',
      path: plugin('openai'),
      config: { base_url: server.url, model: 'm', temperature: 'hot' },
    },
    {
      name: 'wasm',
      path: wasmProvider('openai_v2'),
      config: { base_url: server.url, model: 'm', temperature: 'hot' },
    },
  ])
  for (const name of ['native', 'wasm']) {
    const error = await failure(t, registry.builder(name).build())
    t.is(error?.code, 'CONFIG_SCHEMA_VIOLATION', name)
    t.is(error?.jsonPath, '/temperature', name)
  }
  t.is(server.requests.length, 0)
  const file = tempFile('plugins.toml', '[[providers]]\nname = "x"\npath = \n')
  const error = await failure(t, PluginRegistry.fromFile(file))
  t.like(error, { code: 'CONFIG_INVALID', path: file, line: 3 })
  const fixed = await registry.builder('native').parameter('temperature', 0.5).build()
  t.is((await fixed.chat(user('next'))).text, 'Echo: next')
  await bystandersUnaffected(t)
})

// 22–26. The hostile-plugin probe (docs/reliability.md; deeper tests in wasm-provider.spec) ----

test('22–26. a key thief, a stream hoarder and a Host spoofer are refused; the bystanders answer', async (t) => {
  const server = await mock(t)
  process.env['MODELPORT_TEST_OTHER_PROVIDER_KEY'] = 'sk-other-provider-secret'
  t.teardown(() => delete process.env['MODELPORT_TEST_OTHER_PROVIDER_KEY'])
  const registry = await registryOf(t, [
    { name: 'thief', path: wasmProvider('key_thief_v2') },
    { name: 'hoarder', path: wasmProvider('stream_hoarder_v1'), config: { base_url: server.url } },
    hostileEntry(server.url),
  ])
  const chat = async (name: string, config: Record<string, unknown> = {}) =>
    (await registry.builder(name).parameters(config).build()).chat(user('x'))
  t.is((await failure(t, chat('thief')))?.code, 'HOST_NOT_ALLOWED')
  t.is((await failure(t, chat('hoarder', { streams: 3000 })))?.code, 'PLUGIN_LIMIT_EXCEEDED')
  const spoofed = await failure(t, chat('hostile', { mode: 'host', host_header: ['metadata.internal'] }))
  t.is(spoofed?.code, 'INVALID_REQUEST')
  t.is(server.requests.length, 16, 'only the hoarder’s 16 streams reached the server')
  t.is((await chat('hoarder', { streams: 2 })).text, 'opened 2')
  await bystandersUnaffected(t)
})

// 15–16. Concurrency and many calls ----------------------------------------------------------

test('15. 1,000 concurrent calls on one Wasm provider are all correct, nothing crosses between calls', async (t) => {
  const registry = await registryOf(t, [
    { name: 'echo', path: wasmProvider('echo_provider'), max_instances: 4 },
  ])
  const provider = await registry.builder('echo').build()
  const answers = await Promise.all(
    Array.from({ length: 1000 }, (_, i) => provider.chat(user(`message number ${i}`))),
  )
  answers.forEach((answer, i) => t.is(answer.text, `message number ${i}`))
  await bystandersUnaffected(t)
})

test.serial('16. 1,000,000 sequential calls: zero failures, bounded RSS growth', async (t) => {
  const raw = await ExtismPlugin.load(wasm('echo'), { cacheDir })
  t.teardown(() => raw.close())
  const input = new TextEncoder().encode('0123456789')
  for (let i = 0; i < 1000; i++) raw.callSync('echo', input)
  const before = process.memoryUsage().rss
  let failures = 0
  for (let i = 0; i < 1_000_000; i++) {
    if (raw.callSync('echo', input).length !== input.length) failures += 1
  }
  t.is(failures, 0)
  const grown = process.memoryUsage().rss - before
  t.true(grown < 128 * 2 ** 20, `RSS grew ${grown >> 20} MiB`)
  await bystandersUnaffected(t)
})

// 17. Closing with calls in flight -----------------------------------------------------------

test.serial('17. closing a registry ends its calls in flight with ABORTED; nothing hangs', async (t) => {
  const server = await mock(t, { latencyMs: SLOW_PATH_MS })
  const registry = await PluginRegistry.fromConfig({
    providers: [
      { name: 'slow', path: plugin('scripted'), config: { latency_ms: SLOW_PATH_MS } },
      hostileEntry(server.url, { timeout_ms: 0 }),
      { name: 'flood', path: wasmProvider('flood_v1') },
      { name: 'http', path: plugin('openai'), config: { base_url: server.url, model: 'mock-gpt-1' } },
    ],
    cache_dir: cacheDir,
  })
  const slow = await registry.builder('slow').build()
  const spinning = await registry.builder('hostile').parameter('mode', 'spin').build()
  const flood = await registry.builder('flood').build()
  const http = await registry.builder('http').build()
  const stream = flood.chatStream(user('1000000'))[Symbol.asyncIterator]()
  await stream.next()
  const drain = async () => {
    while (!(await stream.next()).done);
  }
  const calls = [
    slow.chat(user('x')),
    spinning.chat(user('x')),
    drain(),
    http.chat(user('x')),
    http.embed(['x']),
  ].map((call) => failure(t, call))
  // The HTTP calls have reached the server (the others are running from their first step).
  t.true(await eventually(() => server.requests.length === 2))
  const [errors, ms] = await timed(async () => {
    await registry.close()
    return Promise.all(calls)
  })
  for (const error of errors) t.is(error?.code, 'ABORTED', error?.message)
  // Left alone they would run for a minute (latency) or without end (the spin, the stream).
  t.true(ms < SLACK_MS, `${ms} ms`)
  t.is((await failure(t, slow.chat(user('after'))))?.code, 'ABORTED')
  await bystandersUnaffected(t)
})

// 18. Slow upstream + AbortSignal ------------------------------------------------------------

for (const kind of ['native', 'wasm'] as const) {
  test.serial(
    `18. ${kind}: aborting a call to a slow upstream rejects it with ABORTED at once`,
    async (t) => {
      const server = await mock(t, { latencyMs: SLOW_PATH_MS })
      const path = kind === 'native' ? plugin('openai') : wasmProvider('openai_v2')
      const registry = await registryOf(t, [
        {
          name: 'p',
          path,
          config: { base_url: server.url, model: 'mock-gpt-1', embedding_model: 'mock-embed-1' },
        },
      ])
      const provider = await registry.builder('p').build()
      const operations = {
        chat: (signal: AbortSignal) => provider.chat(user('x'), { signal }),
        stream: (signal: AbortSignal) => provider.chatStream(user('x'), { signal }).collect(),
        embed: (signal: AbortSignal) => provider.embed(['x'], { signal }),
        complete: (signal: AbortSignal) => provider.complete({ prompt: 'x' }, { signal }),
      }
      for (const [name, operation] of Object.entries(operations)) {
        const controller = new AbortController()
        const before = server.requests.length
        const call = failure(t, operation(controller.signal))
        t.true(await eventually(() => server.requests.length === before + 1), `${name}: no request`)
        const [error, ms] = await timed(() => {
          controller.abort()
          return call
        })
        t.is(error?.code, 'ABORTED', name)
        // The upstream answers after a minute; how soon an abort lands is measured by `npm run bench`.
        t.true(ms < SLACK_MS, `${name}: ${ms} ms after abort()`)
        t.true(await eventually(() => server.openConnections() === 0), `${name}: the request stayed open`)
      }
      await bystandersUnaffected(t)
    },
  )
}

// 19. Retries --------------------------------------------------------------------------------

for (const kind of ['native', 'wasm'] as const) {
  test(`19. ${kind}: 429/500/503/408 are retried up to the limit; 400 and 401 are not`, async (t) => {
    const server = await mock(t)
    const path = kind === 'native' ? plugin('openai') : wasmProvider('openai_v2')
    const registry = await registryOf(t, [
      {
        name: 'p',
        path,
        config: { base_url: server.url, model: 'mock-gpt-1' },
        max_retries: 4,
        retry_base_delay_ms: 1,
        retry_max_delay_ms: 5,
      },
    ])
    const provider = await registry.builder('p').build()
    const count = () => server.requests.length

    server.failNext(
      { status: 429, headers: { 'retry-after-ms': '20' } },
      { status: 500 },
      { status: 503 },
      { status: 408 },
    )
    t.is((await provider.chat(user('retried'))).text, 'Echo: retried')
    t.is(count(), 5)

    server.failNext({ status: 429, headers: { 'retry-after': '0' } }, { status: 429 }, { status: 429 })
    const limited = await failure(t, provider.chat(user('x'), { maxRetries: 2 }))
    t.is(limited?.code, 'RATE_LIMITED')
    t.is(count(), 8)

    server.failNext({ status: 503 }, { status: 503 })
    t.is((await failure(t, provider.chat(user('x'), { maxRetries: 1 })))?.code, 'HTTP_STATUS')
    t.is(count(), 10)

    server.failNext({ status: 401 })
    t.is((await failure(t, provider.chat(user('x'))))?.code, 'AUTH')
    server.failNext({ status: 400 })
    // The native plugin reads OpenAI's error body (INVALID_REQUEST); the Wasm fixture leaves
    // the status to the host (HTTP_STATUS).
    const invalid = await failure(t, provider.chat(user('x')))
    t.is(invalid?.code, kind === 'native' ? 'INVALID_REQUEST' : 'HTTP_STATUS')
    t.is(count(), 12)
    t.is((await provider.chat(user('next'))).text, 'Echo: next')
    await bystandersUnaffected(t)
  })
}

// 20–21. SSE ---------------------------------------------------------------------------------

const sse = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`

const MALFORMED: Record<string, string[]> = {
  'missing [DONE]': [sse({ content: 'Hel' }), sse({ content: 'lo' }, 'stop')],
  'a truncated final chunk': [sse({ content: 'Hel' }), 'data: {"choices":[{"index":0,"delta":{"cont'],
  'invalid JSON mid-stream': [sse({ content: 'Hel' }), 'data: {"choices": nope}\n\n', 'data: [DONE]\n\n'],
  'a truncated tool call': [
    sse({ tool_calls: [{ index: 0, id: 'c1', function: { name: 'f', arguments: '{"a":' } }] }),
  ],
}

for (const kind of ['native', 'wasm'] as const) {
  test(`20. ${kind}: malformed SSE ends in PARSE_ERROR, never a clean finish or {} arguments`, async (t) => {
    const wellFormed = [
      sse({ content: 'Hel' }),
      `: comment\r\n\r\n`,
      sse({ content: 'lo' }, 'stop'),
      'data: [DONE]\r\n\r\n',
    ]
    const server = await mock(t, {
      rawStream: ({ lastUserText }) => ({
        pieces: MALFORMED[lastUserText] ?? wellFormed.join('').match(/[\s\S]{1,5}/g)!,
      }),
    })
    const path = kind === 'native' ? plugin('openai') : wasmProvider('openai_v2')
    const registry = await registryOf(t, [{ name: 'p', path, config: { base_url: server.url, model: 'm' } }])
    const provider = await registry.builder('p').build()
    for (const name of Object.keys(MALFORMED)) {
      const seen: ChatStreamEvent[] = []
      const error = await failure(t, async () => {
        for await (const event of provider.chatStream(user(name), { maxRetries: 0 })) seen.push(event)
      })
      t.is(error?.code, 'PARSE_ERROR', `${name}: ${error?.message}`)
      t.false(
        seen.some((e) => e.type === 'done' || e.type === 'toolUseComplete'),
        `${name}: ${JSON.stringify(seen)}`,
      )
    }
    // Split across network chunks, CRLF, comments: parsed normally, and the next stream works.
    t.like(await provider.chatStream(user('fine')).collect(), { text: 'Hello', finishReason: 'stop' })
    await bystandersUnaffected(t)
  })

  test(`21. ${kind}: interleaved deltas of parallel tool calls reassemble per index and id`, async (t) => {
    const call = (index: number, fields: Record<string, unknown>) =>
      sse({ tool_calls: [{ index, ...fields }] })
    const pieces = [
      call(0, { id: 'call_a', type: 'function', function: { name: 'weather', arguments: '' } }),
      call(1, { id: 'call_b', type: 'function', function: { name: 'time', arguments: '{"zo' } }),
      call(0, { function: { arguments: '{"city":' } }),
      call(1, { function: { arguments: 'ne":"CET"}' } }),
      call(0, { function: { arguments: '"Oslo"}' } }),
      sse({}, 'tool_calls'),
      'data: [DONE]\n\n',
    ]
    const server = await mock(t, { rawStream: () => ({ pieces }) })
    const path = kind === 'native' ? plugin('openai') : wasmProvider('openai_v2')
    const registry = await registryOf(t, [{ name: 'p', path, config: { base_url: server.url, model: 'm' } }])
    const provider = await registry.builder('p').build()
    const tools = [
      { name: 'weather', parameters: { type: 'object' } },
      { name: 'time', parameters: { type: 'object' } },
    ]
    const answer = await provider.chatStream(user('x'), { tools }).collect()
    t.is(answer.finishReason, 'toolCalls')
    t.deepEqual(
      answer.toolCalls?.map(({ id, name, arguments: args }) => ({ id, name, args: JSON.parse(args) })),
      [
        { id: 'call_a', name: 'weather', args: { city: 'Oslo' } },
        { id: 'call_b', name: 'time', args: { zone: 'CET' } },
      ],
    )
    await bystandersUnaffected(t)
  })
}
