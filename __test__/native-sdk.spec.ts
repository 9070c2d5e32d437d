// Native plugins of seed 004's other kinds (a library exporting `plugin_sdk_factory`), loaded from
// `[[plugins]]` entries and used through the same registry API as TypeScript plugins: an embedder,
// a vector backend and a tool executor built with the Rust SDK, and their hostile modes.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import test from 'ava'
import { PluginRegistry } from 'modelport'
import type { EmbedderPlugin, ToolExecutorPlugin, VectorMemoryBackendPlugin } from 'modelport/sdk'

import { failure, fixture, plugin, tempDir } from './helpers'

const ctx = { runId: 'native', logger: { log() {} } }

/** A registry from a config file whose `[[plugins]]` are `entries`. */
async function registryWith(entries: Array<{ name: string; kind: string; path: string; config?: object }>) {
  const file = join(tempDir(), 'plugins.json')
  writeFileSync(file, JSON.stringify({ plugins: entries }))
  const registry = await PluginRegistry.fromFile(file)
  const reports = await registry.loadAll()
  return { registry, reports }
}

test('a native embedder, vector backend and tool executor load from [[plugins]] and work', async (t) => {
  const outputDir = tempDir()
  const work = tempDir()
  const { registry, reports } = await registryWith([
    { name: 'embed', kind: 'embedder', path: fixture('sdk_embedder'), config: { dims: 32 } },
    { name: 'memory', kind: 'vector-backend', path: fixture('sdk_vectors'), config: { dims: 32 } },
    { name: 'run', kind: 'tool-executor', path: fixture('sdk_executor'), config: { outputDir } },
  ])
  t.teardown(() => registry.close())
  t.deepEqual(
    reports.map((r) => [r.name, r.kind, r.ok]),
    [
      ['embed', 'native', true],
      ['memory', 'native', true],
      ['run', 'native', true],
    ],
  )
  t.deepEqual(
    registry.plugins().map((p) => [p.name, p.manifest.type, p.manifest.version, p.runtime]),
    [
      ['embed', 'embedder', '1.2.0', 'native'],
      ['memory', 'vector-backend', '0.3.0', 'native'],
      ['run', 'tool-executor', '0.1.0', 'native'],
    ],
  )

  const embed = registry.plugin<EmbedderPlugin>('embed')
  t.is(embed.dims(), 32)
  const texts = ['the cat sleeps', 'a cat sleeps on the mat', 'quarterly tax report']
  const vectors = await embed.embedTexts(texts, ctx)
  t.is(vectors.length, 3)
  t.true(vectors.every((v) => v.length === 32))

  const memory = registry.plugin<VectorMemoryBackendPlugin>('memory')
  await memory.upsert(
    'notes',
    texts.map((text, i) => ({
      id: `n${i}`,
      vector: vectors[i]!,
      metadata: { even: i % 2 === 0 },
      content: text,
    })),
    ctx,
  )
  const [query] = await embed.embedTexts(['cat sleeps'], ctx)
  const found = await memory.query('notes', Float32Array.from(query!), 2, ctx)
  t.deepEqual(
    found.map((m) => m.id),
    ['n0', 'n1'],
  )
  t.like(found[0], { content: 'the cat sleeps', metadata: { even: true } })
  t.deepEqual(
    (await memory.query('notes', Float32Array.from(query!), 5, ctx, { even: false })).map((m) => m.id),
    ['n1'],
  )
  await memory.deleteByIds('notes', ['n0'], ctx)
  t.false((await memory.query('notes', Float32Array.from(query!), 5, ctx)).some((m) => m.id === 'n0'))
  await memory.wipeRepo('notes', ctx)
  t.deepEqual(await memory.query('notes', Float32Array.from(query!), 5, ctx), [])
  t.like(await memory.info(), { backend: 'native-memory', dims: 32, supportsFilters: true })

  const run = registry.plugin<ToolExecutorPlugin>('run')
  const policy = {
    enabled: true,
    allowedCommands: ['echo', 'sleep'],
    workingDirectory: work,
    timeoutMs: 10_000,
  }
  t.true(run.isAllowed('echo', policy))
  t.false(run.isAllowed('rm', policy))
  const echoed = await run.execute({ command: 'echo', args: ['from', 'native'] }, policy, ctx)
  t.like(echoed, { exitCode: 0, truncated: false })
  t.is(readFileSync(echoed.stdoutPath, 'utf8'), 'from native\n')
  const slept = await run.execute({ command: 'sleep', args: ['30'], timeoutMs: 200 }, policy, ctx)
  t.is(slept.signal, 'SIGKILL')
  t.like(await failure(t, run.execute({ command: 'rm', args: ['-rf', work] }, policy, ctx)), {
    code: 'INVALID_REQUEST',
    plugin: 'run',
  })
  t.deepEqual(await registry.health(), {
    embed: { healthy: true, message: '32 dimensions, native' },
    memory: { healthy: true, message: '' },
    run: { healthy: true, message: '' },
  })
})

test('native plugins answering the wrong shape, hanging or panicking are typed errors naming them', async (t) => {
  const { registry, reports } = await registryWith([
    {
      name: 'short',
      kind: 'embedder',
      path: fixture('sdk_embedder'),
      config: { dims: 8, mode: 'wrong-dims' },
    },
    { name: 'stuck', kind: 'embedder', path: fixture('sdk_embedder'), config: { mode: 'hang' } },
    { name: 'boom', kind: 'embedder', path: fixture('sdk_embedder'), config: { mode: 'panic' } },
    {
      name: 'anon',
      kind: 'vector-backend',
      path: fixture('sdk_vectors'),
      config: { dims: 2, mode: 'no-ids' },
    },
    {
      name: 'frozen',
      kind: 'vector-backend',
      path: fixture('sdk_vectors'),
      config: { dims: 2, mode: 'hang' },
    },
  ])
  t.teardown(() => registry.close())
  t.true(
    reports.every((r) => r.ok),
    JSON.stringify(reports),
  )
  t.like(await failure(t, registry.plugin<EmbedderPlugin>('short').embedTexts(['a b'], ctx)), {
    code: 'PLUGIN_INVALID',
    plugin: 'short',
    jsonPath: 'embedTexts()[0]',
  })
  const boom = await failure(t, registry.plugin<EmbedderPlugin>('boom').embedTexts(['a'], ctx))
  t.like(boom, { code: 'PLUGIN_PANICKED', plugin: 'boom' })
  t.regex(boom?.message ?? '', /fixture panic in embed_texts/)
  const anon = registry.plugin<VectorMemoryBackendPlugin>('anon')
  await anon.upsert('r', [{ id: 'a', vector: [1, 0] }], ctx)
  t.like(await failure(t, anon.query('r', Float32Array.of(1, 0), 1, ctx)), {
    code: 'PLUGIN_INVALID',
    jsonPath: 'query()[0].id',
  })
  // Aborted while the plugin never answers: the call ends, the plugin's task is released.
  for (const call of [
    (signal: AbortSignal) =>
      registry.plugin<EmbedderPlugin>('stuck').embedTexts(['a'], { ...ctx, abortSignal: signal }),
    (signal: AbortSignal) =>
      registry.plugin<VectorMemoryBackendPlugin>('frozen').upsert('r', [{ id: 'a', vector: [1, 0] }], {
        ...ctx,
        abortSignal: signal,
      }),
  ]) {
    const controller = new AbortController()
    const pending = call(controller.signal)
    setTimeout(() => controller.abort(), 50)
    t.like(await failure(t, pending), { code: 'ABORTED' })
  }
  // The siblings keep working.
  t.is((await registry.plugin<EmbedderPlugin>('short').embedTexts([], ctx)).length, 0)
})

test('bad native [[plugins]] entries: config against the schema, the wrong kind of library, the wrong section', async (t) => {
  const { registry, reports } = await registryWith([
    { name: 'zero', kind: 'embedder', path: fixture('sdk_embedder'), config: { dims: 0 } },
    { name: 'typo', kind: 'vector-backend', path: fixture('sdk_vectors'), config: { dimensions: 3 } },
    { name: 'misfiled', kind: 'embedder', path: fixture('sdk_vectors'), config: { dims: 3 } },
    { name: 'provider', kind: 'embedder', path: plugin('scripted') },
    { name: 'absent', kind: 'embedder', path: join(tempDir(), 'nothing.so') },
  ])
  t.teardown(() => registry.close())
  const byName = Object.fromEntries(reports.map((r) => [r.name, r.error]))
  t.like(byName['zero'], { code: 'CONFIG_SCHEMA_VIOLATION', plugin: 'native-embedder', jsonPath: '/dims' })
  t.like(byName['typo'], { code: 'CONFIG_SCHEMA_VIOLATION', jsonPath: '/' })
  t.like(byName['misfiled'], { code: 'PLUGIN_INVALID', jsonPath: 'kind' })
  t.like(byName['provider'], { code: 'PLUGIN_LOAD_FAILED', plugin: 'provider' })
  t.regex(byName['provider']?.message ?? '', /it is a provider plugin \(list it under \[\[providers\]\]\)/)
  t.like(byName['absent'], { code: 'PLUGIN_LOAD_FAILED', plugin: 'absent' })
  t.deepEqual(registry.plugins(), [])

  const asProvider = await PluginRegistry.fromConfig({
    providers: [{ name: 'wrong', path: fixture('sdk_embedder') }],
  })
  t.teardown(() => asProvider.close())
  const [report] = await asProvider.loadAll()
  t.like(report?.error, { code: 'PLUGIN_LOAD_FAILED' })
  t.regex(report?.error?.message ?? '', /an SDK plugin \(plugin_sdk_factory\), not a provider/)
})
