// Extism (Wasm) plugins of seed 004's other kinds, loaded from `[[plugins]]` entries and used
// through the same registry API as TypeScript and native plugins: an embedder and a vector backend
// built with the AssemblyScript PDK, in the sandbox, and their hostile modes.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

import test from 'ava'
import { PluginRegistry } from 'modelport'
import type { EmbedderPlugin, VectorMemoryBackendPlugin } from 'modelport/sdk'

import { failure, root, tempDir } from './helpers'

const ctx = { runId: 'wasm', logger: { log() {} } }
const wasm = (name: string) => join(root, 'wasm', 'build', `${name}.wasm`)

async function registryWith(entries: Array<{ name: string; kind: string; path: string; config?: object }>) {
  const file = join(tempDir(), 'plugins.json')
  writeFileSync(file, JSON.stringify({ plugins: entries }))
  const registry = await PluginRegistry.fromFile(file)
  const reports = await registry.loadAll()
  return { registry, reports }
}

test('a Wasm embedder and vector backend load from [[plugins]] and work in the sandbox', async (t) => {
  const { registry, reports } = await registryWith([
    { name: 'embed', kind: 'embedder', path: wasm('sdk_embedder'), config: { dims: 24 } },
    { name: 'memory', kind: 'vector-backend', path: wasm('sdk_vectors'), config: { dims: 24 } },
  ])
  t.teardown(() => registry.close())
  t.deepEqual(
    reports.map((r) => [r.name, r.kind, r.ok]),
    [
      ['embed', 'wasm', true],
      ['memory', 'wasm', true],
    ],
  )
  t.deepEqual(
    registry.plugins().map((p) => [p.name, p.manifest.type, p.manifest.version, p.runtime]),
    [
      ['embed', 'embedder', '0.4.0', 'wasm'],
      ['memory', 'vector-backend', '0.2.0', 'wasm'],
    ],
  )
  const embed = registry.plugin<EmbedderPlugin>('embed')
  t.is(embed.dims(), 24)
  const texts = ['the cat sleeps', 'a cat sleeps on the mat', 'quarterly tax report']
  const vectors = await embed.embedTexts(texts, ctx)
  t.true(vectors.length === 3 && vectors.every((v) => v.length === 24))
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
  t.like(await memory.info(), { backend: 'wasm-memory', dims: 24 })
  // Upserting vectors of the wrong size: the plugin's own error, typed and named.
  t.like(await failure(t, memory.upsert('notes', [{ id: 'x', vector: [1, 2] }], ctx)), { plugin: 'memory' })
})

test('a trapping Wasm plugin gets a fresh instance, initialised again; hostile answers and spins are typed', async (t) => {
  const { registry, reports } = await registryWith([
    { name: 'embed', kind: 'embedder', path: wasm('sdk_embedder'), config: { dims: 8 } },
    { name: 'short', kind: 'embedder', path: wasm('sdk_embedder'), config: { dims: 8, mode: 'wrong-dims' } },
    { name: 'anon', kind: 'vector-backend', path: wasm('sdk_vectors'), config: { dims: 2, mode: 'no-ids' } },
    { name: 'runner', kind: 'tool-executor', path: wasm('sdk_wasm_executor') },
  ])
  t.teardown(() => registry.close())
  const embed = registry.plugin<EmbedderPlugin>('embed')
  t.like(await failure(t, embed.embedTexts(['trap'], ctx)), { code: 'PLUGIN_TRAPPED', plugin: 'embed' })
  t.is((await embed.embedTexts(['after the trap'], ctx))[0]?.length, 8, 'the fresh instance has its config')
  t.regex(
    (await registry.health('embed'))['embed']?.message ?? '',
    /init 1x/,
    'a fresh instance ran init once',
  )
  t.like(await failure(t, registry.plugin<EmbedderPlugin>('short').embedTexts(['a'], ctx)), {
    code: 'PLUGIN_INVALID',
    jsonPath: 'embedTexts()[0]',
  })
  const anon = registry.plugin<VectorMemoryBackendPlugin>('anon')
  await anon.upsert('r', [{ id: 'a', vector: [1, 0] }], ctx)
  t.like(await failure(t, anon.query('r', Float32Array.of(1, 0), 1, ctx)), {
    code: 'PLUGIN_INVALID',
    jsonPath: 'query()[0].id',
  })
  // A call that never returns is interrupted by abort; the plugin serves the next call.
  const controller = new AbortController()
  const spinning = embed.embedTexts(['spin'], { ...ctx, abortSignal: controller.signal })
  setTimeout(() => controller.abort(), 100)
  t.like(await failure(t, spinning), { code: 'ABORTED' })
  t.is((await embed.embedTexts(['still here'], ctx)).length, 1)
  t.like(reports.find((r) => r.name === 'runner')?.error, { code: 'UNSUPPORTED', plugin: 'runner' })
  t.regex(reports.find((r) => r.name === 'runner')?.error?.message ?? '', /sandbox runs no processes/)
})
