// `modelport/sdk` (seed 004): the seed's four example plugins, written with real bodies, load and
// work through loadPlugin / safeLoadPlugin; every malformed export is a typed error naming the
// plugin and the field.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'

import test from 'ava'
import { ModelportError, PluginRegistry } from 'modelport'
import {
  loadPlugin,
  localEmbedder,
  localEmbedding,
  providerEmbedder,
  PluginValidationError,
  PluginVersionMismatchError,
  safeLoadPlugin,
  SDK_VERSION,
  type EmbedderPlugin,
  type PluginExport,
  type PluginLogEvent,
  type ProviderAdapterPlugin,
  type VectorMemoryBackendPlugin,
} from 'modelport/sdk'
import { startMockOpenAI } from 'modelport/testing'

import { hostileEmbedder, hostileExecutor, hostileVectors } from './fixtures/sdk/hostile'
import embedderExport from './fixtures/sdk/my-embedder'
import providerExport, { MyProviderPlugin } from './fixtures/sdk/my-provider'
import toolExecutorExport from './fixtures/sdk/my-tool-executor'
import vectorBackendExport from './fixtures/sdk/my-vector-backend'
import { eventually, failure, plugin, root, SLACK_MS, tempDir, tempFile } from './helpers'

test('SDK_VERSION is the integer 1', (t) => {
  t.is(SDK_VERSION, 1)
})

test("the seed's provider plugin loads, logs through the context, generates and streams", async (t) => {
  const mock = await startMockOpenAI()
  t.teardown(() => mock.close())
  const logged: PluginLogEvent[] = []
  const ctx = { runId: 'run-123', logger: { log: (event: PluginLogEvent) => logged.push(event) } }
  const plugin = await loadPlugin(providerExport, { apiKey: 'sk-test', baseUrl: mock.url }, ctx)
  t.true(plugin instanceof MyProviderPlugin)
  t.deepEqual(logged, [{ type: 'log', message: 'MyProvider initialized' }])
  t.deepEqual(await plugin.healthCheck(), { healthy: true, message: 'Connected' })
  t.is(plugin.capabilities().latencyClass, 'medium')
  const response = await plugin.generate(
    { messages: [{ role: 'user', content: 'Hello!' }], maxTokens: 20 },
    ctx,
  )
  t.is(response.text, 'Echo: Hello!')
  t.deepEqual(response.usage, { inputTokens: 1, outputTokens: 2, totalTokens: 3 })
  t.like(mock.requests.at(-1)?.body, { max_tokens: 20 })
  let text = ''
  for await (const event of plugin.stream!({ messages: [{ role: 'user', content: 'a b c' }] }, ctx)) {
    if (event.type === 'text') text += event.text
  }
  t.is(text, 'Echo: a b c')
  await plugin.shutdown()
  t.is((await plugin.healthCheck()).healthy, false)
})

test("the seed's embedder, vector backend and tool executor load and do their work", async (t) => {
  const mock = await startMockOpenAI()
  t.teardown(() => mock.close())
  const embedder = await loadPlugin(embedderExport, { baseUrl: mock.url, dimensions: 16 })
  t.is(embedder.dims(), 16)
  const ctx = { runId: 'r', logger: { log: () => {} } }
  const [cat, dog, car] = await embedder.embedTexts(['cat', 'dog', 'car'], ctx)
  t.is(cat!.length, 16)

  const store = await loadPlugin(vectorBackendExport, { dims: 16 })
  await store.upsert(
    'repo-a',
    [
      { id: 'cat', vector: cat!, metadata: { kind: 'animal' } },
      { id: 'dog', vector: dog!, metadata: { kind: 'animal' } },
      { id: 'car', vector: car!, metadata: { kind: 'vehicle' } },
    ],
    ctx,
  )
  const nearest = await store.query('repo-a', Float32Array.from(cat!), 2, ctx)
  t.is(nearest[0]?.id, 'cat')
  t.true(Math.abs(nearest[0]!.score - 1) < 1e-6)
  const vehicles = await store.query('repo-a', Float32Array.from(cat!), 3, ctx, { kind: 'vehicle' })
  t.deepEqual(
    vehicles.map((r) => r.id),
    ['car'],
  )
  t.deepEqual(await store.query('repo-b', Float32Array.from(cat!), 3, ctx), [], 'repos are separate')
  await store.deleteByIds('repo-a', ['cat'], ctx)
  t.false((await store.query('repo-a', Float32Array.from(cat!), 3, ctx)).some((r) => r.id === 'cat'))
  await store.wipeRepo('repo-a', ctx)
  t.deepEqual(await store.query('repo-a', Float32Array.from(cat!), 3, ctx), [])
  t.like(await store.info(), { dims: 16, supportsFilters: true })

  const executor = await loadPlugin(toolExecutorExport, {})
  const policy = {
    enabled: true,
    allowedCommands: ['node'],
    allowedEnv: ['PATH'],
    maxOutputBytes: 64,
    timeoutMs: 60_000,
  }
  t.true(executor.isAllowed('node', policy))
  t.false(executor.isAllowed('rm', policy))
  t.false(executor.isAllowed('node', { ...policy, enabled: false }))
  const run = await executor.execute(
    {
      command: 'node',
      args: ['-e', 'process.stdout.write("x".repeat(1000)); console.error(process.env.SECRET ?? "scrubbed")'],
      env: {},
    },
    policy,
    ctx,
  )
  t.is(run.exitCode, 0)
  t.true(run.truncated)
  t.is(readFileSync(run.stdoutPath, 'utf8'), 'x'.repeat(64))
  t.is(readFileSync(run.stderrPath, 'utf8').trim(), 'scrubbed')
  await t.throwsAsync(executor.execute({ command: 'rm', args: ['-rf', '/'] }, policy, ctx), {
    message: /not allowed/,
  })
})

test('safeLoadPlugin answers { success, plugin, manifest } or { success: false, error }', async (t) => {
  const ok = await safeLoadPlugin(vectorBackendExport, { dims: 4 })
  t.true(ok.success)
  t.is(ok.manifest?.name, 'my-vector-backend')
  t.is(ok.manifest?.type, 'vector-backend')
  t.truthy(ok.plugin)
  const bad = await safeLoadPlugin(vectorBackendExport, { dims: -1 })
  t.false(bad.success)
  t.is(bad.manifest?.name, 'my-vector-backend', 'a valid manifest is reported even when init fails')
  t.is(bad.error?.code, 'PLUGIN_LOAD_FAILED')
  t.regex(bad.error?.message ?? '', /init\(\) failed: dims must be a positive integer/)
})

/** An export of `plugin` under `manifest`. */
function exportOf(manifest: unknown, plugin: () => unknown): PluginExport {
  return { manifest, createPlugin: plugin } as unknown as PluginExport
}

const goodManifest = { name: 'bad-one', type: 'embedder', sdkVersion: { minVersion: 1 } }

/** A minimal embedder whose `init` is `init`. */
function embedder(init: () => Promise<void>): () => unknown {
  return () => ({
    name: 'bad-one',
    sdkVersion: { minVersion: 1 },
    init,
    healthCheck: async () => ({ healthy: true }),
    shutdown: async () => {},
    dims: () => 2,
    embedTexts: async () => [],
  })
}

for (const [what, pluginExport, path] of [
  [
    'a missing manifest',
    exportOf(
      undefined,
      embedder(async () => {}),
    ),
    'manifest',
  ],
  [
    'a manifest without a name',
    exportOf(
      { type: 'embedder', sdkVersion: { minVersion: 1 } },
      embedder(async () => {}),
    ),
    'manifest.name',
  ],
  [
    'an unknown type',
    exportOf(
      { ...goodManifest, type: 'robot' },
      embedder(async () => {}),
    ),
    'manifest.type',
  ],
  [
    'no SDK range',
    exportOf(
      { name: 'bad-one', type: 'embedder' },
      embedder(async () => {}),
    ),
    'manifest.sdkVersion',
  ],
  [
    'a non-numeric range',
    exportOf(
      { ...goodManifest, sdkVersion: { minVersion: 'one' } },
      embedder(async () => {}),
    ),
    'manifest.sdkVersion.minVersion',
  ],
  ['no createPlugin', { manifest: goodManifest } as unknown as PluginExport, 'createPlugin'],
  [
    'a plugin missing a method of its type',
    exportOf(goodManifest, () => ({ ...(embedder(async () => {})() as object), embedTexts: undefined })),
    'embedTexts',
  ],
  [
    'a plugin object whose own range is malformed',
    exportOf(goodManifest, () => ({ ...(embedder(async () => {})() as object), sdkVersion: 'v1' })),
    'sdkVersion',
  ],
] as const) {
  test(`${what} is a PluginValidationError (PLUGIN_INVALID) naming ${path}`, async (t) => {
    const err = await t.throwsAsync(loadPlugin(pluginExport), { instanceOf: PluginValidationError })
    t.true(err instanceof ModelportError)
    t.is(err?.code, 'PLUGIN_INVALID')
    t.is(err?.jsonPath, path)
    if (path !== 'manifest' && path !== 'manifest.name') t.is(err?.plugin, 'bad-one')
  })
}

for (const [what, range, advice] of [
  ['above this SDK', { minVersion: 2 }, /upgrade modelport/],
  ['below this SDK', { minVersion: 0, maxVersion: 0 }, /newer release of the plugin/],
] as const) {
  test(`an SDK range ${what} is a PluginVersionMismatchError with requiredRange and currentVersion`, async (t) => {
    const err = await t.throwsAsync(
      loadPlugin(
        exportOf(
          { ...goodManifest, sdkVersion: range },
          embedder(async () => {}),
        ),
      ),
      {
        instanceOf: PluginVersionMismatchError,
      },
    )
    t.is(err?.code, 'SDK_VERSION_MISMATCH')
    t.deepEqual(err?.requiredRange, range)
    t.is(err?.currentVersion, SDK_VERSION)
    t.is(err?.plugin, 'bad-one')
    t.regex(err?.message ?? '', advice)
  })
}

test('a plugin object whose own sdkVersion excludes this SDK is a mismatch too', async (t) => {
  const plugin = () => ({ ...(embedder(async () => {})() as object), sdkVersion: { minVersion: 3 } })
  const err = await t.throwsAsync(loadPlugin(exportOf(goodManifest, plugin)), {
    instanceOf: PluginVersionMismatchError,
  })
  t.deepEqual(err?.requiredRange, { minVersion: 3 })
})

test('createPlugin throwing (synchronously or not) and init throwing are PLUGIN_LOAD_FAILED with the cause', async (t) => {
  const sync = await failure(
    t,
    loadPlugin(
      exportOf(goodManifest, () => {
        throw new Error('boom at construction')
      }),
    ),
  )
  t.is(sync?.code, 'PLUGIN_LOAD_FAILED')
  t.regex(sync?.message ?? '', /createPlugin\(\) failed: boom at construction/)
  const async = await failure(
    t,
    loadPlugin(exportOf(goodManifest, () => Promise.reject(new Error('boom later')))),
  )
  t.regex(async?.message ?? '', /createPlugin\(\) failed: boom later/)
  const init = await failure(t, loadPlugin(providerExport, { baseUrl: 'http://127.0.0.1:1' }))
  t.is(init?.code, 'PLUGIN_LOAD_FAILED')
  t.is(init?.plugin, 'my-provider')
  t.regex(init?.message ?? '', /init\(\) failed: API key required/)
  t.is((init?.cause as Error | undefined)?.message, 'API key required')
})

test('an init that never settles is PLUGIN_TIMEOUT; one aborted by its context is ABORTED', async (t) => {
  const never = exportOf(
    goodManifest,
    embedder(() => new Promise<void>(() => {})),
  )
  const timedOut = await failure(t, loadPlugin(never, {}, {}, { initTimeoutMs: 50 }))
  t.is(timedOut?.code, 'PLUGIN_TIMEOUT')
  t.is(timedOut?.plugin, 'bad-one')
  const controller = new AbortController()
  const pending = loadPlugin(never, {}, { abortSignal: controller.signal }, { initTimeoutMs: 60_000 })
  controller.abort()
  t.is((await failure(t, pending))?.code, 'ABORTED')
})

test('a provider plugin typed by the SDK can be used without modelport-specific code', async (t) => {
  // The seed's Step 3, as written: load, then call generate with a context.
  const mock = await startMockOpenAI()
  t.teardown(() => mock.close())
  const plugin: ProviderAdapterPlugin = await loadPlugin(
    providerExport,
    { apiKey: process.env['MY_API_KEY'] ?? 'k', baseUrl: mock.url },
    { runId: 'run-123' },
  )
  const response = await plugin.generate(
    { messages: [{ role: 'user', content: 'Hello!' }] },
    { runId: 'run-123', logger: { log: () => {} } },
  )
  t.is(response.text, 'Echo: Hello!')
})

// A registry holds SDK plugins beside its configured providers, with a bounded lifecycle.

test('registry.register: the seed plugins join a registry, are listed, found by name and health-checked', async (t) => {
  const mock = await startMockOpenAI()
  t.teardown(() => mock.close())
  const registry = await PluginRegistry.fromConfig({
    providers: [{ name: 'taken', path: '/nonexistent.so' }],
  })
  const provider = await registry.register(providerExport, { apiKey: 'k', baseUrl: mock.url })
  await registry.register(vectorBackendExport, { dims: 4 }, { name: 'memory' })
  t.is(registry.plugin('my-provider'), provider)
  t.deepEqual(
    registry.plugins().map((p) => [p.name, p.manifest.type, p.runtime]),
    [
      ['my-provider', 'provider', 'ts'],
      ['memory', 'vector-backend', 'ts'],
    ],
  )
  t.deepEqual(await registry.health(), {
    'my-provider': { healthy: true, message: 'Connected' },
    memory: { healthy: true, details: { repos: 0 } },
  })
  t.is((await failure(t, async () => registry.plugin('absent')))?.code, 'PLUGIN_NOT_FOUND')
  const clash = await failure(t, registry.register(vectorBackendExport, { dims: 4 }, { name: 'taken' }))
  t.is(clash?.code, 'CONFIG_INVALID')
  t.regex(clash?.message ?? '', /already in this registry/)
  t.is(
    (await failure(t, registry.register(vectorBackendExport, { dims: 4 }, { name: 'memory' })))?.code,
    'CONFIG_INVALID',
  )
  await registry.close()
  t.is((await provider.healthCheck()).healthy, false, 'close() shut it down')
  t.is((await failure(t, registry.register(embedderExport, {})))?.code, 'ABORTED')
})

test('a hanging or throwing healthCheck is unhealthy, saying why; a hanging shutdown cannot hang close()', async (t) => {
  const registry = await PluginRegistry.fromConfig({ providers: [] })
  const hanging = () => new Promise<never>(() => {})
  await registry.register(
    exportOf({ ...goodManifest, name: 'hangs' }, () => ({
      ...(embedder(async () => {})() as object),
      healthCheck: hanging,
      shutdown: hanging,
    })),
    {},
    { lifecycleTimeoutMs: 100 },
  )
  await registry.register(
    exportOf({ ...goodManifest, name: 'throws' }, () => ({
      ...(embedder(async () => {})() as object),
      healthCheck: async () => {
        throw new Error('database unreachable')
      },
    })),
  )
  const health = await registry.health()
  t.false(health['hangs']?.healthy)
  t.regex(health['hangs']?.message ?? '', /healthCheck\(\) did not settle within 100 ms/)
  t.deepEqual(health['throws'], { healthy: false, message: 'database unreachable' })
  const started = Date.now()
  await registry.close()
  t.true(Date.now() - started < 100 + SLACK_MS, 'close() waited for the bound, not for the plugin')
})

test('[[plugins]] entries in a config file load with loadAll: one report each, failures typed and contained', async (t) => {
  const mock = await startMockOpenAI()
  t.teardown(() => mock.close())
  const fixtures = join(root, '__test__', 'fixtures', 'sdk')
  const file = tempFile(
    'plugins.toml',
    `[[providers]]
name = "scripted"
path = ${JSON.stringify(plugin('scripted'))}

[[plugins]]
name = "notes"
kind = "vector-backend"
path = ${JSON.stringify(join(fixtures, 'my-vector-backend.ts'))}
[plugins.config]
dims = 2

[[plugins]]
name = "embed"
kind = "embedder"
path = ${JSON.stringify(join(fixtures, 'my-embedder.ts'))}
lifecycle_timeout_ms = 5000
[plugins.config]
baseUrl = ${JSON.stringify(mock.url)}
dimensions = 2

[[plugins]]
name = "mislabelled"
kind = "tool-executor"
path = ${JSON.stringify(join(fixtures, 'my-embedder.ts'))}

[[plugins]]
name = "text-kind"
kind = "embedder"
path = "embedder.txt"

[[plugins]]
name = "gone"
kind = "embedder"
path = "missing.mjs"

[[plugins]]
name = "local"
kind = "embedder"
path = "modelport:local-embedder"
[plugins.config]
dims = 16

[[plugins]]
name = "no-such-builtin"
kind = "embedder"
path = "modelport:telepathy"
`,
  )
  const registry = await PluginRegistry.fromFile(file)
  t.teardown(() => registry.close())
  const reports = await registry.loadAll()
  t.deepEqual(
    reports.map((r) => [r.name, r.kind, r.ok, r.error?.code]),
    [
      ['scripted', 'native', true, undefined],
      ['notes', 'ts', true, undefined],
      ['embed', 'ts', true, undefined],
      ['mislabelled', 'ts', false, 'PLUGIN_INVALID'],
      ['text-kind', 'ts', false, 'UNSUPPORTED'],
      ['gone', 'ts', false, 'PLUGIN_LOAD_FAILED'],
      ['local', 'ts', true, undefined],
      ['no-such-builtin', 'ts', false, 'PLUGIN_NOT_FOUND'],
    ],
  )
  t.is(registry.plugin<EmbedderPlugin>('local').dims(), 16)
  t.regex(reports[7]?.error?.message ?? '', /ships: modelport:local-embedder/)
  t.regex(
    reports[3]?.error?.message ?? '',
    /config says kind 'tool-executor', the plugin's manifest says type 'embedder'/,
  )
  t.true(reports[5]?.error?.path?.endsWith('missing.mjs'))
  const ctx = { runId: 'r', logger: { log: () => {} } }
  const [vector] = await registry.plugin<EmbedderPlugin>('embed').embedTexts(['hello'], ctx)
  const notes = registry.plugin<VectorMemoryBackendPlugin>('notes')
  await notes.upsert('repo', [{ id: 'hello', vector: vector! }], ctx)
  t.is((await notes.query('repo', Float32Array.from(vector!), 1, ctx))[0]?.id, 'hello')
  // Entries load at once: they register in the order they finish.
  t.deepEqual(Object.keys(await registry.health()).sort(), ['embed', 'local', 'notes'])
  t.deepEqual(
    (await registry.loadAll()).map((r) => r.ok),
    [true, true, true, false, false, false, true, false],
    'a second loadAll keeps what loaded',
  )
})

test('a [[plugins]] entry with an unknown kind is CONFIG_INVALID with its line', async (t) => {
  const file = tempFile('bad.toml', '[[plugins]]\nname = "x"\nkind = "robot"\npath = "x.mjs"\n')
  const err = await failure(t, PluginRegistry.fromFile(file))
  t.is(err?.code, 'CONFIG_INVALID')
  t.is(err?.line, 3)
})

// A TypeScript provider plugin served through Provider: the core's retries, timeouts, abort and streams.

test("the seed's provider, registered, is a Provider: chat, chatStream, per-call settings", async (t) => {
  const mock = await startMockOpenAI()
  t.teardown(() => mock.close())
  const registry = await PluginRegistry.fromConfig({ providers: [] })
  t.teardown(() => registry.close())
  await registry.register(providerExport, { apiKey: 'k', baseUrl: mock.url })
  const provider = await registry.builder('my-provider').build()
  const answer = await provider.chat([{ role: 'user', content: 'Hello!' }], { maxOutputTokens: 7 })
  t.is(answer.text, 'Echo: Hello!')
  t.deepEqual(answer.usage, { inputTokens: 1, outputTokens: 2 })
  t.like(mock.requests.at(-1)?.body, { max_tokens: 7 })
  const events = []
  for await (const event of provider.chatStream([{ role: 'user', content: 'one two three' }]))
    events.push(event)
  t.is(events.flatMap((e) => (e.type === 'text' ? [e.text] : [])).join(''), 'Echo: one two three')
  t.deepEqual(events.at(-1), { type: 'done', finishReason: 'stop' })
  const topP = await failure(t, provider.chat([{ role: 'user', content: 'x' }], { topP: 0.5 }))
  t.is(topP?.code, 'UNSUPPORTED')
  t.regex(topP?.message ?? '', /top_p/)
  t.is((await failure(t, provider.embed(['x'])))?.code, 'UNSUPPORTED')
})

/** A provider plugin whose `generate` is `generate`, recording the signals it was given. */
function scriptedProvider(
  generate: (ctx: { abortSignal?: AbortSignal }, attempt: number) => Promise<unknown>,
) {
  const signals: AbortSignal[] = []
  let attempts = 0
  const pluginExport = exportOf(
    { name: 'ts-provider', type: 'provider', sdkVersion: { minVersion: 1 } },
    () => ({
      name: 'ts-provider',
      sdkVersion: { minVersion: 1 },
      init: async () => {},
      healthCheck: async () => ({ healthy: true }),
      shutdown: async () => {},
      capabilities: () => ({
        supportsStreaming: false,
        supportsToolCalling: false,
        supportsJsonMode: false,
        modality: 'text',
        latencyClass: 'fast',
      }),
      generate: async (_req: unknown, ctx: { abortSignal?: AbortSignal }) => {
        if (ctx.abortSignal) signals.push(ctx.abortSignal)
        return generate(ctx, ++attempts)
      },
    }),
  )
  return { pluginExport, signals, attempts: () => attempts }
}

test('a TS provider gets the core retries: a retryable ModelportError is tried again, a plain Error is not', async (t) => {
  const registry = await PluginRegistry.fromConfig({ providers: [] })
  t.teardown(() => registry.close())
  const flaky = scriptedProvider(async (_ctx, attempt) => {
    if (attempt === 1)
      throw new ModelportError({ code: 'RATE_LIMITED', message: 'slow down', retryable: true })
    return { text: `attempt ${attempt}`, finishReason: 'stop' }
  })
  await registry.register(flaky.pluginExport)
  const provider = await registry.builder('ts-provider').build()
  t.is((await provider.chat([{ role: 'user', content: 'x' }])).text, 'attempt 2')
  t.is(flaky.attempts(), 2)

  const broken = scriptedProvider(async () => {
    throw new Error('upstream exploded')
  })
  await registry.register(broken.pluginExport, {}, { name: 'broken' })
  const failed = await failure(
    t,
    (await registry.builder('broken').build()).chat([{ role: 'user', content: 'x' }]),
  )
  t.is(failed?.code, 'PROVIDER_ERROR')
  t.is(failed?.plugin, 'broken')
  t.regex(failed?.message ?? '', /upstream exploded/)
  t.is(broken.attempts(), 1)
})

test('a TS provider call waiting on a backoff or a timeout keeps Node alive, in the main thread and in a worker', async (t) => {
  // The calls wait with nothing else pending in their event loop: if modelport did not hold it
  // open, the process (or the worker) would end before they settle.
  for (const place of ['main', 'worker']) {
    const child = spawn(
      process.execPath,
      [join(root, '__test__', 'children', 'ts-provider-waits.mjs'), place],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    const [code] = await once(child, 'exit')
    t.is(code, 0, place)
    t.deepEqual(JSON.parse(out), { retried: 'answered on attempt 2', timedOut: 'TIMEOUT', place })
  }
})

test("a TS provider's attempt is aborted through ctx.abortSignal on timeout and on abort", async (t) => {
  const registry = await PluginRegistry.fromConfig({ providers: [] })
  t.teardown(() => registry.close())
  const hanging = scriptedProvider(
    (ctx) =>
      new Promise((_, reject) => {
        ctx.abortSignal?.addEventListener('abort', () => reject(new Error('aborted by the host')))
      }),
  )
  await registry.register(hanging.pluginExport)
  const provider = await registry.builder('ts-provider').build()
  const timedOut = await failure(
    t,
    provider.chat([{ role: 'user', content: 'x' }], { timeoutMs: 100, maxRetries: 0 }),
  )
  t.is(timedOut?.code, 'TIMEOUT')
  t.true(await eventually(() => hanging.signals[0]?.aborted === true), 'the plugin saw its signal abort')
  const controller = new AbortController()
  const pending = provider.chat([{ role: 'user', content: 'x' }], { signal: controller.signal })
  await eventually(() => hanging.signals.length === 2)
  controller.abort()
  t.is((await failure(t, pending))?.code, 'ABORTED')
  t.true(await eventually(() => hanging.signals[1]?.aborted === true))
})

test('capabilities() and healthCheck() for native, Wasm and TypeScript providers', async (t) => {
  const mock = await startMockOpenAI()
  const registry = await PluginRegistry.fromConfig({
    providers: [
      { name: 'openai', path: plugin('openai'), config: { base_url: mock.url, model: 'mock-gpt-1' } },
      { name: 'scripted', path: plugin('scripted') },
      {
        name: 'querymt',
        path: join(root, 'wasm', 'thirdparty', 'querymt', 'qmt_openai.wasm'),
        config: { base_url: mock.url, model: 'mock-gpt-1', api_key: 'k' },
      },
    ],
  })
  t.teardown(() => registry.close())
  await registry.register(providerExport, { apiKey: 'k', baseUrl: mock.url })
  const [openai, scripted, querymt, ts] = await Promise.all(
    ['openai', 'scripted', 'querymt', 'my-provider'].map((name) => registry.builder(name).build()),
  )
  const derived = { supportsToolCalling: true, modality: 'text', latencyClass: 'medium' }
  t.deepEqual(await openai!.capabilities(), { ...derived, supportsStreaming: true, supportsJsonMode: true })
  t.deepEqual(await scripted!.capabilities(), {
    ...derived,
    supportsStreaming: true,
    supportsJsonMode: false,
  })
  t.deepEqual(await querymt!.capabilities(), { ...derived, supportsStreaming: true, supportsJsonMode: true })
  t.is((await ts!.capabilities()).latencyClass, 'medium', "the TS plugin's own answer")
  t.false((await ts!.capabilities()).supportsToolCalling)

  for (const provider of [openai!, scripted!, querymt!])
    t.true((await provider.healthCheck()).healthy, provider.plugin)
  t.deepEqual(await ts!.healthCheck(), { healthy: true, message: 'Connected' })
  await mock.close()
  const down = await openai!.healthCheck({ timeoutMs: 30_000 })
  t.false(down.healthy)
  t.is(down.details?.['code'], 'TRANSPORT')
  t.false((await ts!.healthCheck()).healthy, "the TS plugin's own check fails too")
})

// The embedders modelport ships.

test('local-embedder: deterministic, normalised, closer for related texts; dims from config', async (t) => {
  const embedder = await loadPlugin(localEmbedder, { dims: 64 })
  const ctx = { runId: 'r', logger: { log: () => {} } }
  const [cat, cats, invoice] = await embedder.embedTexts(
    ['the black cat sleeps', 'black cats sleeping', 'quarterly invoice totals'],
    ctx,
  )
  t.is(embedder.dims(), 64)
  t.is(cat!.length, 64)
  t.true(Math.abs(Math.hypot(...cat!) - 1) < 1e-9)
  const cosine = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * b[i]!, 0)
  t.true(
    cosine(cat!, cats!) > cosine(cat!, invoice!) + 0.2,
    `${cosine(cat!, cats!)} vs ${cosine(cat!, invoice!)}`,
  )
  t.deepEqual(
    (await embedder.embedTexts(['the black cat sleeps'], ctx))[0],
    cat,
    'the same text, the same vector',
  )
  t.deepEqual(localEmbedding('the black cat sleeps', 64), cat)
  const bad = await failure(t, loadPlugin(localEmbedder, { dims: 0 }))
  t.is(bad?.code, 'CONFIG_SCHEMA_VIOLATION')
  t.is(bad?.plugin, 'local-embedder')
})

test("provider-embedder: a Provider's embeddings (the native openai plugin's), dims measured at init", async (t) => {
  const mock = await startMockOpenAI({ embeddingDimensions: 12 })
  t.teardown(() => mock.close())
  const registry = await PluginRegistry.fromConfig({
    providers: [
      { name: 'openai', path: plugin('openai'), config: { base_url: mock.url, model: 'mock-gpt-1' } },
    ],
  })
  t.teardown(() => registry.close())
  const provider = await registry.builder('openai').build()
  const embedder = await registry.register(providerEmbedder, { provider })
  t.is(embedder.dims(), 12)
  const ctx = { runId: 'r', logger: { log: () => {} } }
  const vectors = await embedder.embedTexts(['alpha', 'beta'], ctx)
  t.deepEqual(
    vectors,
    (await provider.embed(['alpha', 'beta'])).map((v) => Array.from(v)),
  )
  t.true((await registry.health('provider-embedder'))['provider-embedder']?.healthy)
  const wrong = await registry.register(providerEmbedder, { provider, dims: 3 }, { name: 'wrong-dims' })
  t.is((await failure(t, wrong.embedTexts(['x'], ctx)))?.code, 'PARSE_ERROR')
  t.is(
    (await failure(t, loadPlugin(providerEmbedder, { provider: 'openai' })))?.code,
    'CONFIG_SCHEMA_VIOLATION',
  )
})

test("a TS provider's stream is retried only until its first event", async (t) => {
  const registry = await PluginRegistry.fromConfig({ providers: [] })
  t.teardown(() => registry.close())
  let attempts = 0
  const limited = () => new ModelportError({ code: 'RATE_LIMITED', message: 'slow down', retryable: true })
  const streaming = (failAfterFirstEvent: boolean) =>
    exportOf(
      { name: failAfterFirstEvent ? 'late' : 'early', type: 'provider', sdkVersion: { minVersion: 1 } },
      () => ({
        ...(
          scriptedProvider(async () => ({})).pluginExport as unknown as { createPlugin: () => object }
        ).createPlugin(),
        async *stream() {
          attempts++
          if (!failAfterFirstEvent && attempts === 1) throw limited()
          yield { type: 'text', text: `attempt ${attempts}` }
          if (failAfterFirstEvent) throw limited()
          yield { type: 'done', finishReason: 'stop' }
        },
      }),
    )
  await registry.register(streaming(false))
  const early = await registry.builder('early').build()
  const texts: string[] = []
  for await (const event of early.chatStream([{ role: 'user', content: 'x' }]))
    if (event.type === 'text') texts.push(event.text)
  t.deepEqual(texts, ['attempt 2'], 'a failure before any event is retried')

  attempts = 0
  await registry.register(streaming(true))
  const late = await registry.builder('late').build()
  const seen: string[] = []
  const err = await failure(t, async () => {
    for await (const event of late.chatStream([{ role: 'user', content: 'x' }]))
      if (event.type === 'text') seen.push(event.text)
  })
  t.is(err?.code, 'RATE_LIMITED')
  t.deepEqual(seen, ['attempt 1'])
  t.is(attempts, 1, 'a failure after an event is not retried: the consumer would see the answer twice')
})

test('a [[plugins]] module that is no plugin, or fails to load, is a typed report naming it', async (t) => {
  const dir = tempDir()
  writeFileSync(join(dir, 'number.mjs'), 'export default 42\n')
  writeFileSync(join(dir, 'broken.mjs'), "throw new Error('module side effect failed')\n")
  writeFileSync(
    join(dir, 'plugins.toml'),
    `[[plugins]]
name = "number"
kind = "embedder"
path = "number.mjs"

[[plugins]]
name = "broken"
kind = "embedder"
path = "broken.mjs"
`,
  )
  const registry = await PluginRegistry.fromFile(join(dir, 'plugins.toml'))
  t.teardown(() => registry.close())
  const [number, broken] = await registry.loadAll()
  t.like(number, {
    ok: false,
    error: { code: 'PLUGIN_INVALID', plugin: 'number', path: join(dir, 'number.mjs') },
  })
  t.regex(number?.error?.message ?? '', /exports no \{ manifest, createPlugin \}/)
  t.like(broken, { ok: false, error: { code: 'PLUGIN_LOAD_FAILED', plugin: 'broken' } })
  t.regex(
    broken?.error?.message ?? '',
    /the module would not load \(.*broken\.mjs\): module side effect failed/,
  )
})

// registry.plugin(name) hands out plugins behind modelport's guard.

const quiet = { runId: 'guarded', logger: { log: () => {} } }

test('a registered plugin answering the wrong shape is PLUGIN_INVALID naming the method and field', async (t) => {
  const registry = await PluginRegistry.fromConfig({ providers: [] })
  t.teardown(() => registry.close())
  const embedder = await registry.register(hostileEmbedder, { mode: 'wrong-shape' })
  const vectors = await registry.register(hostileVectors, { mode: 'wrong-shape' })
  const executor = await registry.register(hostileExecutor, { mode: 'wrong-shape' })
  t.like(await failure(t, embedder.embedTexts(['a', 'b'], quiet)), {
    code: 'PLUGIN_INVALID',
    plugin: 'hostile-embedder',
    jsonPath: 'embedTexts()[0]',
  })
  t.regex(
    (await failure(t, embedder.embedTexts(['a'], quiet)))?.message ?? '',
    /embedTexts\(\) answered the wrong shape: vector 0 has 3 dimensions; dims\(\) is 4$/,
  )
  t.like(await failure(t, vectors.query('r', new Float32Array(4), 5, quiet)), {
    code: 'PLUGIN_INVALID',
    plugin: 'hostile-vectors',
    jsonPath: 'query()[0].id',
  })
  t.like(await failure(t, executor.execute({ command: 'ls' }, { enabled: true }, quiet)), {
    code: 'PLUGIN_INVALID',
    plugin: 'hostile-executor',
    jsonPath: 'execute().exitCode',
  })
  const notBoolean = t.throws(() => executor.isAllowed('ls', { enabled: true }), {
    instanceOf: ModelportError,
  })
  t.like(notBoolean, { code: 'PLUGIN_INVALID', jsonPath: 'isAllowed()' })
})

test('a registered plugin throwing, synchronously or not, is PLUGIN_ERROR naming it, with the cause', async (t) => {
  const registry = await PluginRegistry.fromConfig({ providers: [] })
  t.teardown(() => registry.close())
  for (const [mode, cause] of [
    ['throw-sync', TypeError],
    ['throw-async', RangeError],
  ] as const) {
    const embedder = await registry.register(hostileEmbedder, { mode }, { name: `e-${mode}` })
    const vectors = await registry.register(hostileVectors, { mode }, { name: `v-${mode}` })
    const executor = await registry.register(hostileExecutor, { mode }, { name: `x-${mode}` })
    for (const [name, call] of [
      [`e-${mode}`, () => embedder.embedTexts(['a'], quiet)],
      [`v-${mode}`, () => vectors.upsert('r', [], quiet)],
      [`v-${mode}`, () => vectors.query('r', new Float32Array(4), 1, quiet)],
      [`x-${mode}`, () => executor.execute({ command: 'ls' }, { enabled: true }, quiet)],
    ] as const) {
      const error = await failure(t, call())
      t.like(error, { code: 'PLUGIN_ERROR', plugin: name })
      t.true(error?.cause instanceof cause, `${name} ${mode}`)
    }
  }
})

test('abort ends a call of every kind with ABORTED, even when the plugin ignores its signal', async (t) => {
  const registry = await PluginRegistry.fromConfig({ providers: [] })
  t.teardown(() => registry.close())
  const embedder = await registry.register(hostileEmbedder, { mode: 'hang' })
  const vectors = await registry.register(hostileVectors, { mode: 'hang' })
  const executor = await registry.register(hostileExecutor, { mode: 'hang' })
  // A server that takes requests and never answers: the provider's fetch hangs.
  const silent = createServer(() => {})
  silent.listen(0, '127.0.0.1')
  await once(silent, 'listening')
  t.teardown(() => silent.close())
  const { port } = silent.address() as AddressInfo
  const provider = await registry.register(providerExport, {
    apiKey: 'k',
    baseUrl: `http://127.0.0.1:${port}`,
  })
  const calls: Array<[string, (signal: AbortSignal) => Promise<unknown>]> = [
    ['hostile-embedder', (signal) => embedder.embedTexts(['a'], { ...quiet, abortSignal: signal })],
    ['hostile-vectors', (signal) => vectors.upsert('r', [], { ...quiet, abortSignal: signal })],
    [
      'hostile-vectors',
      (signal) => vectors.query('r', new Float32Array(4), 1, { ...quiet, abortSignal: signal }),
    ],
    ['hostile-vectors', (signal) => vectors.deleteByIds('r', ['a'], { ...quiet, abortSignal: signal })],
    ['hostile-vectors', (signal) => vectors.wipeRepo('r', { ...quiet, abortSignal: signal })],
    [
      'hostile-executor',
      (signal) => executor.execute({ command: 'ls' }, { enabled: true }, { ...quiet, abortSignal: signal }),
    ],
    [
      'my-provider',
      (signal) =>
        provider.generate({ messages: [{ role: 'user', content: 'hi' }] }, { ...quiet, abortSignal: signal }),
    ],
  ]
  for (const [name, call] of calls) {
    const controller = new AbortController()
    const pending = call(controller.signal)
    setImmediate(() => controller.abort())
    t.like(await failure(t, pending), { code: 'ABORTED', plugin: name })
  }
})
