// Case: the reference vector store (`modelport:sqlite-vectors`: SQLite + an HNSW index per repo)
// against a brute-force TypeScript scan of the same data (one Float32Array, unit vectors, a dot
// product per item, a top-10 insertion list): upsert of 100,000 × 384-dim vectors, then top-10
// query latency (p50/p99) with queries alternating between the two, and recall@10 of the store
// against the scan's exact answers. Also: closing (the index saved into the database) and
// reopening in a fresh registry (the saved index loaded, not rebuilt).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { modelport, require } from '../lib/env.mjs'
import { now, percentile } from '../lib/stats.mjs'

const DIMS = 384
const CLUSTERS = 1000
const targetSpeedup = 20
const targetRecall = 0.95

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
function random(seed) {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** `count` unit vectors around `CLUSTERS` random centres (text embeddings cluster by topic). */
function clustered(count, seed, centres) {
  const next = random(seed)
  const out = new Float32Array(count * DIMS)
  for (let i = 0; i < count; i++) {
    const centre = centres.subarray(((i * 7919) % CLUSTERS) * DIMS, (((i * 7919) % CLUSTERS) + 1) * DIMS)
    let norm = 0
    for (let d = 0; d < DIMS; d++) {
      const x = centre[d] + (next() - 0.5) * 1.5
      out[i * DIMS + d] = x
      norm += x * x
    }
    norm = Math.sqrt(norm)
    for (let d = 0; d < DIMS; d++) out[i * DIMS + d] /= norm
  }
  return out
}

/** The brute-force scan: vectors kept as given (unit length), top-k by dot product. */
class BruteForce {
  constructor() {
    this.vectors = new Float32Array(0)
    this.ids = []
  }

  upsert(ids, vectors) {
    const grown = new Float32Array(this.vectors.length + vectors.length)
    grown.set(this.vectors)
    grown.set(vectors, this.vectors.length)
    this.vectors = grown
    this.ids.push(...ids)
  }

  query(q, k) {
    const best = [] // [score, index], best first
    const { vectors } = this
    const count = this.ids.length
    for (let i = 0; i < count; i++) {
      let dot = 0
      const base = i * DIMS
      for (let d = 0; d < DIMS; d++) dot += vectors[base + d] * q[d]
      if (best.length < k || dot > best[best.length - 1][0]) {
        let at = best.length < k ? best.length : k - 1
        if (best.length < k) best.push(null)
        while (at > 0 && best[at - 1][0] < dot) {
          best[at] = best[at - 1]
          at--
        }
        best[at] = [dot, i]
      }
    }
    return best.map(([score, i]) => ({ id: this.ids[i], score }))
  }
}

export async function run({ quick }) {
  const { PluginRegistry } = modelport()
  const { sqliteVectors } = require('modelport/sdk')
  const count = quick ? 20_000 : 100_000
  const queries = quick ? 50 : 300
  const next = random(1)
  const centres = Float32Array.from({ length: CLUSTERS * DIMS }, () => next() * 2 - 1)
  const data = clustered(count, 2, centres)
  const probes = clustered(queries, 3, centres)
  const ids = Array.from({ length: count }, (_, i) => `doc-${i}`)
  const ctx = { runId: 'bench', logger: { log() {} } }
  const dir = mkdtempSync(join(tmpdir(), 'modelport-bench-vectors-'))
  const path = join(dir, 'vectors.db')

  let registry = await PluginRegistry.fromConfig({ providers: [] })
  let store = await registry.register(sqliteVectors, { path, dims: DIMS })
  const items = ids.map((id, i) => ({
    id,
    vector: data.subarray(i * DIMS, (i + 1) * DIMS),
    metadata: { shard: i % 10 },
  }))
  const batchSize = 10_000
  let started = now()
  for (let at = 0; at < count; at += batchSize)
    await store.upsert('bench', items.slice(at, at + batchSize), ctx)
  const storeUpsertS = (now() - started) / 1e9
  const brute = new BruteForce()
  started = now()
  for (let at = 0; at < count; at += batchSize) {
    brute.upsert(
      ids.slice(at, at + batchSize),
      data.subarray(at * DIMS, Math.min(count, at + batchSize) * DIMS),
    )
  }
  const bruteUpsertS = (now() - started) / 1e9

  // Warm both, then alternate: query i on the store, then on the scan (then the other order).
  for (let i = 0; i < 5; i++) {
    await store.query('bench', probes.subarray(0, DIMS), 10, ctx)
    brute.query(probes.subarray(0, DIMS), 10)
  }
  const storeUs = []
  const bruteUs = []
  let hits = 0
  for (let i = 0; i < queries; i++) {
    const q = probes.subarray(i * DIMS, (i + 1) * DIMS)
    const timeStore = async () => {
      const t0 = now()
      const found = await store.query('bench', q, 10, ctx)
      storeUs.push((now() - t0) / 1000)
      return found
    }
    const timeBrute = () => {
      const t0 = now()
      const found = brute.query(q, 10)
      bruteUs.push((now() - t0) / 1000)
      return found
    }
    let found, exact
    if (i % 2 === 0) {
      found = await timeStore()
      exact = timeBrute()
    } else {
      exact = timeBrute()
      found = await timeStore()
    }
    const truth = new Set(exact.map((m) => m.id))
    hits += found.filter((m) => truth.has(m.id)).length
  }
  const recall = hits / (queries * 10)

  // A filter (one shard in ten: 10,000 candidates, walked through the graph).
  const filteredUs = []
  for (let i = 0; i < Math.min(queries, 100); i++) {
    const t0 = now()
    await store.query('bench', probes.subarray(i * DIMS, (i + 1) * DIMS), 10, ctx, { shard: 3 })
    filteredUs.push((now() - t0) / 1000)
  }

  // Another registry opens the store while this one holds it unsaved: it rebuilds from the rows.
  started = now()
  const second = await PluginRegistry.fromConfig({ providers: [] })
  const secondStore = await second.register(sqliteVectors, { path }, { name: 'second' })
  await secondStore.query('bench', probes.subarray(0, DIMS), 10, ctx)
  const rebuildS = (now() - started) / 1e9
  await second.close()

  started = now()
  await registry.close()
  const closeS = (now() - started) / 1e9
  started = now()
  registry = await PluginRegistry.fromConfig({ providers: [] })
  store = await registry.register(sqliteVectors, { path })
  await store.query('bench', probes.subarray(0, DIMS), 10, ctx)
  const reopenS = (now() - started) / 1e9
  await registry.close()
  rmSync(dir, { recursive: true, force: true })

  const p = (values, q) => percentile(values, q)
  const speedupP50 = p(bruteUs, 50) / p(storeUs, 50)
  const speedupP99 = p(bruteUs, 99) / p(storeUs, 99)
  return {
    title: `Vector store: ${count.toLocaleString('en')} × ${DIMS}-dim vectors, top-10 queries`,
    method: `upsert in batches of ${batchSize.toLocaleString('en')}; ${queries} top-10 queries alternating between the store and a brute-force TypeScript scan of the same data (each query's order flips), latencies per query; recall@10 against the scan's exact answers; clustered synthetic unit vectors (${CLUSTERS} centres); store defaults (HNSW connectivity 16, efConstruction 64, efSearch 128).`,
    tables: [
      {
        columns: ['contender', 'upsert, s', 'query p50, µs', 'query p99, µs', 'recall@10'],
        rows: [
          ['sqlite-vectors (SQLite + HNSW)', storeUpsertS, p(storeUs, 50), p(storeUs, 99), recall],
          ['brute-force TypeScript scan', bruteUpsertS, p(bruteUs, 50), p(bruteUs, 99), 1],
          ['sqlite-vectors, filter {shard: 3} (1 in 10)', '—', p(filteredUs, 50), p(filteredUs, 99), '—'],
        ],
      },
      {
        columns: ['persistence', 'seconds'],
        rows: [
          ['open + first query with no saved index (rebuilt from the rows)', rebuildS],
          ['close (index saved into the database)', closeS],
          ['reopen + first query (saved index loaded)', reopenS],
        ],
      },
    ],
    checks: [
      {
        name: `query p50 speed-up over the TS scan at ${count.toLocaleString('en')}`,
        value: speedupP50,
        unit: '×',
        target: `≥ ${targetSpeedup}×`,
        met: speedupP50 >= targetSpeedup,
      },
      {
        name: `query p99 speed-up over the TS scan at ${count.toLocaleString('en')}`,
        value: speedupP99,
        unit: '×',
        target: `≥ ${targetSpeedup}×`,
        met: speedupP99 >= targetSpeedup,
      },
      {
        name: 'recall@10',
        value: recall,
        unit: '',
        target: `≥ ${targetRecall}`,
        met: recall >= targetRecall,
      },
    ],
    chart: {
      title: 'Vector query speed-up over a brute-force TS scan (×, higher is better; target 20×)',
      lowerIsBetter: false,
      bars: [
        { group: 'query', label: 'p50', value: speedupP50, target: targetSpeedup },
        { group: 'query', label: 'p99', value: speedupP99, target: targetSpeedup },
      ],
    },
  }
}
