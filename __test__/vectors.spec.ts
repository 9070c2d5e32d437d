// The reference vector store (`modelport:sqlite-vectors`) through the public API: what it
// stores survives the process, repos stay apart, filters hold, bad input is refused by name.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'

import test from 'ava'
import { PluginRegistry } from 'modelport'
import {
  localEmbedding,
  sqliteVectors,
  type PluginContext,
  type VectorMemoryBackendPlugin,
} from 'modelport/sdk'

import { failure, root, tempDir, tempFile } from './helpers'

const ctx: PluginContext = { runId: 'test', logger: { log() {} } }
const DIMS = 64

async function openStore(config: Record<string, unknown>) {
  const registry = await PluginRegistry.fromConfig({ providers: [] })
  const store = await registry.register(sqliteVectors, config)
  return { registry, store }
}

function doc(id: string, text: string, metadata: Record<string, string | number | boolean> = {}) {
  return { id, vector: localEmbedding(text, DIMS), metadata, content: text }
}

async function writeFromAnotherProcess(path: string, count: number, ending: 'close' | 'crash') {
  const child = spawn(
    process.execPath,
    [join(root, '__test__', 'children', 'vector-writer.mjs'), path, String(count), ending],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  )
  const [code] = await once(child, 'exit')
  return code as number
}

test('items, scores, metadata and content come back; filters, deletes and wipes hold', async (t) => {
  const { registry, store } = await openStore({
    path: join(tempDir(), 'v.db'),
    dims: DIMS,
    embedderId: 'local-64',
  })
  t.teardown(() => registry.close())
  await store.upsert(
    'notes',
    [
      doc('rust', 'rust borrow checker lifetimes', { lang: 'rust', year: 2024 }),
      doc('go', 'go goroutines and channels', { lang: 'go', year: 2024 }),
      doc('zig', 'zig comptime allocators', { lang: 'zig', year: 2023 }),
    ],
    ctx,
  )
  await store.upsert('other', [doc('rust', 'an unrelated repo with the same id')], ctx)
  const query = Float32Array.from(localEmbedding('lifetimes in the rust borrow checker', DIMS))
  const found = await store.query('notes', query, 2, ctx)
  t.is(found.length, 2)
  t.like(found[0], {
    id: 'rust',
    metadata: { lang: 'rust', year: 2024 },
    content: 'rust borrow checker lifetimes',
  })
  t.true(found[0]!.score > found[1]!.score && found[0]!.score <= 1.0001)
  t.deepEqual(
    (await store.query('notes', query, 5, ctx, { year: 2024, lang: 'go' })).map((m) => m.id),
    ['go'],
  )
  t.deepEqual(await store.query('notes', query, 5, ctx, { year: '2024' }), [], 'a string is not the number')
  await store.deleteByIds('notes', ['rust', 'not-there'], ctx)
  t.false((await store.query('notes', query, 5, ctx)).some((m) => m.id === 'rust'))
  t.is((await store.query('other', query, 5, ctx))[0]?.content, 'an unrelated repo with the same id')
  await store.wipeRepo('notes', ctx)
  t.deepEqual(await store.query('notes', query, 5, ctx), [])
  t.is((await store.query('other', query, 5, ctx)).length, 1)
  t.deepEqual(await store.info(), {
    backend: 'sqlite-hnsw',
    dims: DIMS,
    embedderId: 'local-64',
    location: 'local',
    supportsFilters: true,
  })
  t.like(await registry.health('sqlite-vectors'), { 'sqlite-vectors': { healthy: true } })
})

test('what one process wrote another reads, after a clean exit and after a crash', async (t) => {
  const path = join(tempDir(), 'shared.db')
  t.is(await writeFromAnotherProcess(path, 500, 'close'), 0)
  const { registry, store } = await openStore({ path })
  t.teardown(() => registry.close())
  t.deepEqual(await store.info(), {
    backend: 'sqlite-hnsw',
    dims: 64,
    embedderId: 'local-64',
    location: 'local',
    supportsFilters: true,
  })
  const query = Float32Array.from(localEmbedding('document number 123 about topic 4', 64))
  const [best] = await store.query('shared', query, 1, ctx)
  t.like(best, { id: 'doc-123', content: 'document number 123', metadata: { topic: 4 } })
  // The writer dies without closing while this process holds the store open: its write is seen.
  t.is(await writeFromAnotherProcess(path, 600, 'crash'), 3)
  const late = Float32Array.from(localEmbedding('document number 555 about topic 2', 64))
  t.is((await store.query('shared', late, 1, ctx))[0]?.id, 'doc-555')
  t.is((await store.query('shared', late, 700, ctx, { topic: 2 })).length, 86)
})

test('bad input is refused by name and stores nothing', async (t) => {
  const dir = tempDir()
  const { registry, store } = await openStore({ path: join(dir, 'v.db'), dims: DIMS })
  t.teardown(() => registry.close())
  const short = { id: 'short', vector: [1, 2, 3] }
  const wrong = await failure(t, store.upsert('r', [doc('ok', 'fine'), short], ctx))
  t.like(wrong, { code: 'INVALID_REQUEST', plugin: 'sqlite-vectors', jsonPath: 'items[1].vector' })
  const nan = { id: 'nan', vector: Array.from({ length: DIMS }, () => Number.NaN) }
  t.like(await failure(t, store.upsert('r', [nan], ctx)), {
    code: 'INVALID_REQUEST',
    jsonPath: 'items[0].vector',
  })
  const nested = { ...doc('nested', 'x'), metadata: { tags: ['a'] } as unknown as Record<string, string> }
  t.like(await failure(t, store.upsert('r', [nested], ctx)), { jsonPath: 'items[0].metadata.tags' })
  t.deepEqual(await store.query('r', Float32Array.from(localEmbedding('fine', DIMS)), 5, ctx), [])
  t.like(await failure(t, store.query('r', new Float32Array(3).fill(1), 5, ctx)), {
    code: 'INVALID_REQUEST',
    jsonPath: 'vector',
  })
  t.like(await failure(t, store.query('r', Float32Array.from(localEmbedding('a', DIMS)), 0, ctx)), {
    jsonPath: 'topK',
  })
  // The config is checked against the plugin's schema before it opens anything.
  const other = await PluginRegistry.fromConfig({ providers: [] })
  t.teardown(() => other.close())
  t.like(await failure(t, other.register(sqliteVectors, { path: join(dir, 'x.db'), dims: 0 })), {
    code: 'CONFIG_SCHEMA_VIOLATION',
    plugin: 'sqlite-vectors',
    jsonPath: '/dims',
  })
  t.like(await failure(t, other.register(sqliteVectors, { path: join(dir, 'x.db'), dimensions: 8 })), {
    code: 'CONFIG_SCHEMA_VIOLATION',
  })
  // An existing store refuses other dimensions; a file that is no database is a storage error.
  await registry.close()
  t.like(await failure(t, other.register(sqliteVectors, { path: join(dir, 'v.db'), dims: DIMS * 2 })), {
    code: 'CONFIG_SCHEMA_VIOLATION',
    jsonPath: 'config.dims',
  })
  const text = tempFile('notes.db', 'plain text, certainly not an SQLite database file')
  t.like(await failure(t, other.register(sqliteVectors, { path: text, dims: DIMS }, { name: 'text' })), {
    code: 'STORAGE_ERROR',
    path: text,
  })
})

test('an upsert aborted mid-way stores nothing; a closed store refuses calls', async (t) => {
  const { registry, store } = await openStore({ path: join(tempDir(), 'v.db'), dims: DIMS })
  const items = Array.from({ length: 20_000 }, (_, i) => doc(`d${i}`, `item ${i} of a big batch`))
  const controller = new AbortController()
  const upsert = store.upsert('big', items, { ...ctx, abortSignal: controller.signal })
  setImmediate(() => controller.abort())
  t.like(await failure(t, upsert), { code: 'ABORTED' })
  t.deepEqual(
    await store.query('big', Float32Array.from(localEmbedding('item 7 of a big batch', DIMS)), 3, ctx),
    [],
  )
  const aborted = AbortSignal.abort()
  t.like(
    await failure(
      t,
      store.query('big', items[0]!.vector as unknown as Float32Array, 1, { ...ctx, abortSignal: aborted }),
    ),
    {
      code: 'ABORTED',
    },
  )
  await registry.close()
  t.like(await failure(t, store.query('big', Float32Array.from(items[0]!.vector), 1, ctx)), {
    code: 'ABORTED',
  })
})

test('a [[plugins]] entry names the shipped store', async (t) => {
  const dir = tempDir()
  const config = tempFile(
    'modelport.toml',
    `[[plugins]]\nname = "memory"\nkind = "vector-backend"\npath = "modelport:sqlite-vectors"\nconfig = { path = ${JSON.stringify(join(dir, 'm.db'))}, dims = ${DIMS} }\n`,
  )
  const registry = await PluginRegistry.fromFile(config)
  t.teardown(() => registry.close())
  const reports = await registry.loadAll()
  t.true(
    reports.every((report) => report.ok),
    JSON.stringify(reports),
  )
  const memory = registry.plugin<VectorMemoryBackendPlugin>('memory')
  await memory.upsert('r', [doc('a', 'alpha beta')], ctx)
  t.is((await memory.query('r', Float32Array.from(localEmbedding('alpha', DIMS)), 1, ctx))[0]?.id, 'a')
})
