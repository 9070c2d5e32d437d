import { execFile } from 'node:child_process'
import { createServer } from 'node:http'
import { join } from 'node:path'

import test, { type ExecutionContext } from 'ava'
import { PluginRegistry, type Provider, type ProviderEntry } from 'modelport'
import { startMockOpenAI, type MockOpenAI } from 'modelport/testing'

import {
  eventually,
  failure,
  openaiEntry,
  PLUGIN_TIMEOUT_MS,
  root,
  SLACK_MS,
  SLOW_PATH_MS,
  tempDir,
  timed,
  WASM_TIMEOUT_MS,
  wasmProvider,
} from './helpers'

async function mock(
  t: ExecutionContext,
  options: Parameters<typeof startMockOpenAI>[0] = {},
): Promise<MockOpenAI> {
  const server = await startMockOpenAI(options)
  t.teardown(() => server.close())
  return server
}

function wasmEntry(
  url: string,
  config: Record<string, unknown> = {},
  host: Partial<ProviderEntry> = {},
): ProviderEntry {
  return {
    name: 'wasm',
    path: wasmProvider('openai_v2'),
    config: { base_url: url, model: 'mock-gpt-1', ...config },
    ...host,
  }
}

async function wasmProviderFor(
  t: ExecutionContext,
  entry: ProviderEntry,
): Promise<{ registry: PluginRegistry; provider: Provider }> {
  const registry = await PluginRegistry.fromConfig({ providers: [entry], cache_dir: tempDir() })
  t.teardown(() => registry.close())
  return { registry, provider: await registry.builder(entry.name).build() }
}

test('a v2 Wasm provider: chat, tools, embed, complete, listModels against the embedded server', async (t) => {
  const server = await mock(t)
  const { registry, provider } = await wasmProviderFor(
    t,
    wasmEntry(server.url, { embedding_model: 'mock-embed-1' }),
  )
  t.like(registry.list()[0], {
    kind: 'wasm',
    provider: 'openai-wasm',
    hostHttp: true,
    apiKeyName: 'OPENAI_API_KEY',
  })
  t.is(registry.list()[0]?.apiKeyEnv, undefined, 'a Wasm plugin is given no variable it chose')
  const answer = await provider.chat([{ role: 'user', content: 'hello wasm' }])
  t.is(answer.text, 'Echo: hello wasm')
  t.is(answer.finishReason, 'stop')
  const call = await provider.chat([{ role: 'user', content: 'get_weather city=Oslo' }], {
    tools: [
      { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
    ],
  })
  t.deepEqual(
    call.toolCalls.map((c) => [c.name, JSON.parse(c.arguments)]),
    [['get_weather', { city: 'Oslo' }]],
  )
  const vectors = await provider.embed(['a', 'b'])
  t.is(vectors.length, 2)
  t.true(vectors.every((v) => v instanceof Float32Array && v.length === 8))
  t.deepEqual(await provider.complete({ prompt: 'once upon a time', maxTokens: 3 }), {
    text: ' continues: once upon',
  })
  t.deepEqual(await registry.listModels('wasm'), ['mock-gpt-1', 'mock-embed-1'])
})

test('the same scenario gives equal results through the native and the Wasm openai plugins', async (t) => {
  const server = await mock(t)
  const registry = await PluginRegistry.fromConfig({
    providers: [
      openaiEntry(server.url, { embedding_model: 'mock-embed-1' }),
      wasmEntry(server.url, { embedding_model: 'mock-embed-1' }),
    ],
    cache_dir: tempDir(),
  })
  t.teardown(() => registry.close())
  const tools = [{ name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } }]
  const scenario = async (provider: Provider) => {
    const first = await provider.chat(
      [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'lookup q=modelport' },
      ],
      { tools },
    )
    const second = await provider.chat(
      [
        { role: 'user', content: 'lookup q=modelport' },
        { role: 'assistant', content: first.text, toolCalls: first.toolCalls },
        { role: 'tool', toolCallId: first.toolCalls[0]!.id, content: 'a plugin runtime' },
      ],
      { tools },
    )
    return {
      first,
      second,
      plain: await provider.chat([{ role: 'user', content: 'plain question' }]),
      vectors: (await provider.embed(['x', 'y'])).map((v) => Array.from(v)),
      completion: await provider.complete({ prompt: 'a b c d e', maxTokens: 2 }),
    }
  }
  const native = await scenario(await registry.builder('openai').build())
  const wasm = await scenario(await registry.builder('wasm').build())
  t.deepEqual(wasm, native)
  t.is(native.second.text, 'Tool result received: a plugin runtime')
})

test('200 concurrent chats on one Wasm provider are all correct', async (t) => {
  const server = await mock(t)
  const { provider } = await wasmProviderFor(t, wasmEntry(server.url, {}, { max_instances: 4 }))
  const answers = await Promise.all(
    Array.from({ length: 200 }, (_, i) => provider.chat([{ role: 'user', content: `question number ${i}` }])),
  )
  t.deepEqual(
    answers.map((a) => a.text),
    Array.from({ length: 200 }, (_, i) => `Echo: question number ${i}`),
  )
})

test('schema violations and from_config refusals are typed before any call', async (t) => {
  const server = await mock(t)
  const registry = await PluginRegistry.fromConfig({
    providers: [wasmEntry(server.url)],
    cache_dir: tempDir(),
  })
  t.teardown(() => registry.close())
  const violation = await failure(t, registry.builder('wasm').parameter('temperature', 9).build())
  t.is(violation?.code, 'CONFIG_SCHEMA_VIOLATION')
  t.is(violation?.jsonPath, '/temperature')
  const noModel = await PluginRegistry.fromConfig({
    providers: [{ name: 'wasm', path: wasmProvider('openai_v2'), config: { base_url: server.url } }],
    cache_dir: tempDir(),
  })
  t.teardown(() => noModel.close())
  t.is((await failure(t, noModel.builder('wasm').build()))?.code, 'INVALID_REQUEST')
})

/** A hostile provider; `config` picks its misbehaviour. */
async function hostile(
  t: ExecutionContext,
  config: Record<string, unknown>,
  host: Record<string, unknown> = {},
) {
  const registry = await PluginRegistry.fromConfig({
    providers: [{ name: 'hostile', path: wasmProvider('hostile_v2'), config, ...host }],
    cache_dir: tempDir(),
  })
  t.teardown(() => registry.close())
  return registry.builder('hostile').build()
}

test('a host outside the allow-list is HOST_NOT_ALLOWED; an empty allow-list allows nothing', async (t) => {
  const server = await mock(t)
  const other = server.url.replace('127.0.0.1', 'localhost')
  const denied = await hostile(t, { mode: 'exfiltrate', base_url: server.url, target: other })
  t.is((await failure(t, denied.chat([{ role: 'user', content: 'x' }])))?.code, 'HOST_NOT_ALLOWED')
  const noList = await hostile(t, { mode: 'exfiltrate', target: server.url })
  t.is((await failure(t, noList.chat([{ role: 'user', content: 'x' }])))?.code, 'HOST_NOT_ALLOWED')
  const listed = await hostile(
    t,
    { mode: 'exfiltrate', target: server.url },
    { allowed_hosts: ['127.0.0.1'] },
  )
  t.regex((await listed.chat([{ role: 'user', content: 'x' }])).text ?? '', /Echo: probe/)
  t.false(server.requests.some((r) => String(r.headers.host).startsWith('localhost')))
})

test('a configured base_url allows its own scheme, host and port, not the host’s other ports', async (t) => {
  const server = await mock(t)
  const other = await mock(t)
  const sneaky = await hostile(t, { mode: 'exfiltrate', base_url: server.url, target: other.url })
  t.is((await failure(t, sneaky.chat([{ role: 'user', content: 'x' }])))?.code, 'HOST_NOT_ALLOWED')
  const wrongScheme = await hostile(t, {
    mode: 'exfiltrate',
    base_url: server.url,
    target: server.url.replace('http://', 'https://'),
  })
  t.is((await failure(t, wrongScheme.chat([{ role: 'user', content: 'x' }])))?.code, 'HOST_NOT_ALLOWED')
  t.is(other.requests.length + server.requests.length, 0)
  // Listed with its scheme and port, the other server is reachable.
  const listed = await hostile(
    t,
    { mode: 'exfiltrate', base_url: server.url, target: other.url },
    { allowed_hosts: [`http://127.0.0.1:${other.port}`] },
  )
  t.regex((await listed.chat([{ role: 'user', content: 'x' }])).text ?? '', /Echo: probe/)
  t.is(other.requests.length, 1)
})

test('a redirect from an allowed host to a denied one is refused', async (t) => {
  const server = await mock(t)
  const redirector = createServer((_req, res) => {
    res.writeHead(302, { location: `${server.url.replace('127.0.0.1', 'localhost')}/chat/completions` })
    res.end()
  })
  await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve))
  t.teardown(() => redirector.close())
  const port = (redirector.address() as { port: number }).port
  const provider = await hostile(t, { mode: 'exfiltrate', base_url: `http://127.0.0.1:${port}` })
  const error = await failure(t, provider.chat([{ role: 'user', content: 'x' }]))
  t.is(error?.code, 'HOST_NOT_ALLOWED')
  t.regex(error?.message ?? '', /redirect to http:\/\/localhost:\d+ refused/)
  t.is(server.requests.length, 0)
})

test("a Wasm provider's Extism http_request (every PDK's http::request) reaches listed hosts only, each redirect hop checked", async (t) => {
  const seen: string[] = []
  const server = createServer((req, res) => {
    seen.push(req.url ?? '')
    if (req.url === '/hop') {
      res.writeHead(302, { location: `http://localhost:${port}/secret` })
      res.end()
    } else res.end(`body of ${req.url}`)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const port = (server.address() as { port: number }).port
  const entry = (name: string, url: string) => ({
    name,
    path: wasmProvider('echo_provider'),
    config: { model: 'echo', fetch: url },
    allowed_hosts: [`http://127.0.0.1:${port}`],
  })
  const registry = await PluginRegistry.fromConfig({
    providers: [
      entry('listed', `http://127.0.0.1:${port}/data`),
      entry('unlisted', `http://localhost:${port}/denied`),
      entry('redirected', `http://127.0.0.1:${port}/hop`),
    ],
    cache_dir: tempDir(),
  })
  t.teardown(() => registry.close())
  const chat = async (name: string) =>
    (await registry.builder(name).build()).chat([{ role: 'user', content: 'x' }])
  t.is((await chat('listed')).text, 'body of /data')
  t.is((await failure(t, chat('unlisted')))?.code, 'HOST_NOT_ALLOWED')
  const redirected = await failure(t, chat('redirected'))
  t.is(redirected?.code, 'HOST_NOT_ALLOWED')
  t.regex(redirected?.message ?? '', /redirect to http:\/\/localhost:\d+ refused/)
  t.deepEqual(seen, ['/data', '/hop'])
})

test.serial('the plugin sees only the environment variables its entry declares', async (t) => {
  process.env['MODELPORT_CANARY'] = 'canary-secret-1234'
  process.env['DECLARED_FOR_PLUGIN'] = 'visible-value'
  process.env['HOSTILE_API_KEY'] = 'the-plugins-own-key'
  t.teardown(() => {
    delete process.env['MODELPORT_CANARY']
    delete process.env['DECLARED_FOR_PLUGIN']
    delete process.env['HOSTILE_API_KEY']
  })
  const server = await mock(t)
  const provider = await hostile(
    t,
    {
      mode: 'env',
      base_url: server.url,
      probe: ['MODELPORT_CANARY', 'DECLARED_FOR_PLUGIN', 'HOSTILE_API_KEY', 'PATH', 'HOME'],
    },
    { env: ['DECLARED_FOR_PLUGIN'] },
  )
  await provider.chat([{ role: 'user', content: 'x' }])
  const body = server.requests.at(-1)?.body as { seen: Record<string, string | null> }
  // The declared one only: not even the API-key variable the plugin names.
  t.deepEqual(body.seen, {
    MODELPORT_CANARY: null,
    DECLARED_FOR_PLUGIN: 'visible-value',
    HOSTILE_API_KEY: null,
    PATH: null,
    HOME: null,
  })
})

test.serial('a Wasm plugin chooses neither which secret it gets nor where it sends it', async (t) => {
  // The fixture names another provider's key variable and defaults its base_url to its own
  // address; it sends whatever key it gets (config and Extism config) wherever it may.
  const stolen = 'MODELPORT_TEST_OTHER_PROVIDER_KEY'
  process.env[stolen] = 'sk-other-provider-secret'
  t.teardown(() => delete process.env[stolen])
  const server = await mock(t)
  const thief = (name: string, entry: Partial<ProviderEntry> = {}): ProviderEntry => ({
    name,
    path: wasmProvider('key_thief_v2'),
    ...entry,
  })
  const registry = await PluginRegistry.fromConfig({
    providers: [
      thief('own-destination'),
      thief('own-destination-keyed', { config: { api_key: 'sk-app-key' } }),
      thief('entry-destination', { config: { base_url: server.url } }),
      thief('granted', { config: { base_url: server.url }, api_key_env: stolen }),
    ],
    cache_dir: tempDir(),
  })
  t.teardown(() => registry.close())
  t.true((await registry.loadAll()).every((report) => report.ok))
  t.like(registry.list()[0], { apiKeyName: stolen, apiKeyEnv: undefined })
  t.like(registry.list()[3], { apiKeyName: stolen, apiKeyEnv: stolen })
  const chat = async (name: string) =>
    (await registry.builder(name).build()).chat([{ role: 'user', content: 'x' }])

  // Its own default destination (an IP literal over http) is refused before anything is sent.
  for (const name of ['own-destination', 'own-destination-keyed']) {
    t.is((await failure(t, chat(name)))?.code, 'HOST_NOT_ALLOWED', name)
  }
  // At the entry's server: nothing of the other provider's key, in its config or its Extism config.
  await chat('entry-destination')
  const sent = server.requests.at(-1)!
  t.deepEqual((sent.body as { stolen: unknown }).stolen, { config_api_key: null, extism_config: null })
  t.is(sent.headers['authorization'], undefined)
  // The entry names the variable: the key arrives in the config (only there).
  await chat('granted')
  t.deepEqual((server.requests.at(-1)!.body as { stolen: unknown }).stolen, {
    config_api_key: 'sk-other-provider-secret',
    extism_config: null,
  })
  t.is(server.requests.length, 2)
})

test('one call cannot hold more than 16 HTTP streams open: PLUGIN_LIMIT_EXCEEDED; they close with the call', async (t) => {
  const server = await mock(t)
  const registry = await PluginRegistry.fromConfig({
    providers: [
      {
        name: 'hoarder',
        path: wasmProvider('stream_hoarder_v1'),
        config: { base_url: server.url },
        timeout_ms: PLUGIN_TIMEOUT_MS,
      },
    ],
    cache_dir: tempDir(),
  })
  t.teardown(() => registry.close())
  const within = await registry.builder('hoarder').parameter('streams', 16).build()
  t.is((await within.chat([{ role: 'user', content: 'x' }])).text, 'opened 16')
  t.true(await eventually(() => server.openConnections() <= 16), `${server.openConnections()} connections`)
  const hoarding = await registry.builder('hoarder').parameter('streams', 3000).build()
  const error = await failure(t, hoarding.chat([{ role: 'user', content: 'x' }]))
  t.is(error?.code, 'PLUGIN_LIMIT_EXCEEDED')
  t.is(error?.plugin, 'hoarder')
  t.is(server.requests.length, 32)
  // The streams of the failed call were closed with it; the provider serves again.
  t.true(await eventually(() => server.openConnections() <= 16), `${server.openConnections()} connections`)
  t.is((await within.chat([{ role: 'user', content: 'x' }])).text, 'opened 16')
})

test.serial('timeout_ms covers the time a call waits inside host functions (v1 HTTP)', async (t) => {
  const server = await mock(t, { latencyMs: SLOW_PATH_MS })
  const registry = await PluginRegistry.fromConfig({
    providers: [{ ...wasmEntry(server.url), path: wasmProvider('openai_v1'), timeout_ms: WASM_TIMEOUT_MS }],
    cache_dir: tempDir(),
  })
  t.teardown(() => registry.close())
  const provider = await registry.builder('wasm').build()
  const [error, ms] = await timed(() => failure(t, provider.chat([{ role: 'user', content: 'x' }])))
  t.is(error?.code, 'PLUGIN_TIMEOUT')
  t.regex(error?.message ?? '', /qmt_http_request ran past the plugin's timeout/)
  t.true(
    ms >= WASM_TIMEOUT_MS - 1 && ms < WASM_TIMEOUT_MS + SLACK_MS,
    `${ms} ms (the answer was a minute away)`,
  )
  t.true(await eventually(() => server.openConnections() === 0), 'the request stayed open')
  // The same for a stream the plugin opens itself (qmt_http_stream_open).
  const [streamError, streamMs] = await timed(() =>
    failure(t, provider.chatStream([{ role: 'user', content: 'x' }], { maxRetries: 0 }).collect()),
  )
  t.is(streamError?.code, 'PLUGIN_TIMEOUT')
  t.regex(streamError?.message ?? '', /qmt_http_stream_open ran past the plugin's timeout/)
  t.true(streamMs < WASM_TIMEOUT_MS + SLACK_MS, `${streamMs} ms (the answer was a minute away)`)
})

test('a response too large for the guest is RESPONSE_TOO_LARGE before it is copied; host memory stays near the body size', async (t) => {
  // 48 MiB of text: about 190 MiB as the guest's JSON input, over the default 64 MiB memory cap.
  const MiB = 2 ** 20
  const large = 'x'.repeat(48 * MiB)
  const server = await mock(t, { reply: ({ lastUserText }) => (lastUserText === 'large' ? large : 'fine') })
  const child = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
    execFile(
      process.execPath,
      [
        join(root, '__test__', 'children', 'large-response.mjs'),
        server.url,
        wasmProvider('openai_v2'),
        tempDir(),
        String(PLUGIN_TIMEOUT_MS),
      ],
      { encoding: 'utf8', timeout: 4 * PLUGIN_TIMEOUT_MS, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => resolve({ status: error ? 1 : 0, stdout, stderr }),
    ),
  )
  t.is(child.status, 0, child.stderr)
  const report = JSON.parse(child.stdout) as { code: string; grown: number; after: string }
  t.is(report.code, 'RESPONSE_TOO_LARGE')
  t.is(report.after, 'fine')
  // The body itself (read whole) and little more; as a JSON value of numbers it took ~40×.
  t.true(report.grown < 3 * large.length, `peak RSS grew ${(report.grown / MiB).toFixed(0)} MiB`)
  t.log(`peak RSS grew ${(report.grown / MiB).toFixed(0)} MiB for a ${large.length / MiB} MiB body`)
})

test('a plugin-set Host header naming another host is refused; one naming its own address is replaced', async (t) => {
  const server = await mock(t)
  const own = `127.0.0.1:${server.port}`
  for (const hosts of [['internal-admin.example'], [own, 'internal-admin.example'], [own, own]]) {
    const spoofing = await hostile(t, { mode: 'host', base_url: server.url, host_header: hosts })
    const error = await failure(t, spoofing.chat([{ role: 'user', content: 'x' }]))
    t.is(error?.code, 'INVALID_REQUEST', hosts.join(', '))
    t.regex(error?.message ?? '', /Host header/)
  }
  t.is(server.requests.length, 0)
  const honest = await hostile(t, { mode: 'host', base_url: server.url, host_header: [own.toUpperCase()] })
  t.regex((await honest.chat([{ role: 'user', content: 'x' }])).text ?? '', /Echo: probe/)
  t.is(server.requests.at(-1)?.headers['host'], own)
})

test.serial(
  'a looping call hits timeout_ms and the next call works; a memory bomb and a trap are typed',
  async (t) => {
    const server = await mock(t)
    const registry = await PluginRegistry.fromConfig({
      providers: [
        {
          name: 'hostile',
          path: wasmProvider('hostile_v2'),
          config: { base_url: server.url },
          timeout_ms: WASM_TIMEOUT_MS,
          max_memory_pages: 256,
        },
      ],
      cache_dir: tempDir(),
    })
    t.teardown(() => registry.close())
    const spin = await registry.builder('hostile').parameter('mode', 'spin').build()
    const [error, ms] = await timed(() => failure(t, spin.chat([{ role: 'user', content: 'x' }])))
    t.is(error?.code, 'PLUGIN_TIMEOUT')
    t.true(ms >= WASM_TIMEOUT_MS - 1 && ms < WASM_TIMEOUT_MS + SLACK_MS, `took ${ms} ms`)
    const fine = await registry.builder('hostile').parameter('mode', 'exfiltrate').build()
    t.regex((await fine.chat([{ role: 'user', content: 'x' }])).text ?? '', /Echo: probe/)
    const grow = await registry.builder('hostile').parameter('mode', 'grow').build()
    t.is((await failure(t, grow.chat([{ role: 'user', content: 'x' }])))?.code, 'PLUGIN_OUT_OF_MEMORY')
    const trap = await registry.builder('hostile').parameter('mode', 'trap').build()
    t.is((await failure(t, trap.chat([{ role: 'user', content: 'x' }])))?.code, 'PLUGIN_TRAPPED')
    // The same provider serves again after each failure (its instance was rebuilt).
    t.is((await failure(t, spin.chat([{ role: 'user', content: 'x' }])))?.code, 'PLUGIN_TIMEOUT')
    t.regex((await fine.chat([{ role: 'user', content: 'after' }])).text ?? '', /Echo: probe/)
  },
)

test('a second loadAll in a new process is served from the compiled cache', async (t) => {
  const cacheDir = tempDir()
  const script = `
    const { PluginRegistry } = require('modelport')
    PluginRegistry.fromConfig({ cache_dir: ${JSON.stringify(cacheDir)}, providers: [{ name: 'w', path: ${JSON.stringify(wasmProvider('openai_v2'))} }] })
      .then(async (r) => { const [report] = await r.loadAll(); console.log(JSON.stringify({ ok: report.ok, cached: r.list()[0]?.compiledFromCache })) })`
  const run = () =>
    new Promise<{ ok: boolean; cached: boolean }>((resolve, reject) =>
      execFile(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' }, (error, stdout, stderr) =>
        error ? reject(new Error(stderr)) : resolve(JSON.parse(stdout) as { ok: boolean; cached: boolean }),
      ),
    )
  t.deepEqual(await run(), { ok: true, cached: false })
  t.deepEqual(await run(), { ok: true, cached: true })
})

test('a v1 Wasm provider does its HTTP through qmt_http_request', async (t) => {
  const server = await mock(t)
  const registry = await PluginRegistry.fromConfig({
    providers: [
      {
        name: 'v1',
        path: wasmProvider('openai_v1'),
        config: { base_url: server.url, model: 'mock-gpt-1', embedding_model: 'mock-embed-1' },
      },
    ],
    cache_dir: tempDir(),
  })
  t.teardown(() => registry.close())
  t.like(registry.list()[0] ?? (await registry.loadAll(), registry.list()[0]), {
    provider: 'openai-wasm-v1',
    hostHttp: false,
  })
  const provider = await registry.builder('v1').build()
  t.is((await provider.chat([{ role: 'user', content: 'hello v1' }])).text, 'Echo: hello v1')
  t.is((await provider.embed(['a', 'b', 'c'])).length, 3)
  t.deepEqual(await provider.complete({ prompt: 'one two three', maxTokens: 2 }), { text: ' continues: one' })
  t.deepEqual(await registry.listModels('v1'), ['mock-gpt-1', 'mock-embed-1'])
})

test('a v1 Wasm provider without network answers from the plugin alone (the benchmark echo provider)', async (t) => {
  const registry = await PluginRegistry.fromConfig({
    providers: [{ name: 'echo', path: wasmProvider('echo_provider'), config: { model: 'echo' } }],
    cache_dir: tempDir(),
  })
  t.teardown(() => registry.close())
  const provider = await registry.builder('echo').build()
  const answers = await Promise.all(
    ['first', 'sécond "quoted"', ''].map((text) => provider.chat([{ role: 'user', content: text }])),
  )
  t.deepEqual(
    answers.map(({ text, finishReason }) => [text, finishReason]),
    [
      ['first', 'stop'],
      ['sécond "quoted"', 'stop'],
      ['', 'stop'],
    ],
  )
  t.deepEqual(await registry.listModels('echo'), ['echo'])
})

test.serial('registry.close() interrupts a running Wasm call with ABORTED, promptly', async (t) => {
  const server = await mock(t)
  // No timeout: only the interrupt can end this call.
  const registry = await PluginRegistry.fromConfig({
    providers: [
      {
        name: 'hostile',
        path: wasmProvider('hostile_v2'),
        config: { base_url: server.url, mode: 'spin' },
        timeout_ms: 0,
      },
    ],
    cache_dir: tempDir(),
  })
  const spinning = (await registry.builder('hostile').build()).chat([{ role: 'user', content: 'x' }])
  await new Promise((resolve) => setTimeout(resolve, 100))
  const [error, ms] = await timed(async () => {
    await registry.close()
    return failure(t, spinning)
  })
  t.is(error?.code, 'ABORTED')
  t.true(ms < SLACK_MS, `took ${ms} ms`)
})
