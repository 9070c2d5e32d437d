// Vector backends the Rust core runs, as seed 004's `VectorMemoryBackendPlugin`: the store
// modelport ships (SQLite holds the items, an HNSW index per repo answers queries) and native
// vector-backend plugins; calls run off the event loop.
import { resolve } from 'node:path'

import type { BindingVectorStore } from '../../binding'
import { ModelportError } from '../errors'
import { binding } from '../native-binding'
import { CorePlugin, withSignal } from './core-plugin'
import type {
  PluginContext,
  PluginExport,
  VectorBackendInfo,
  VectorItem,
  VectorMemoryBackendPlugin,
  VectorQueryFilter,
  VectorQueryResult,
} from './types'

const NAME = 'sqlite-vectors'

/** The config `sqlite-vectors` takes (checked before `init` by its manifest's schema). */
const CONFIG_SCHEMA = {
  type: 'object',
  properties: {
    path: {
      type: 'string',
      minLength: 1,
      description: "The database file (created if missing; relative to the process's folder), or :memory:",
    },
    dims: { type: 'integer', minimum: 1, maximum: 65536, description: 'Required to create a store' },
    embedderId: { type: 'string', description: 'Which embedder made the vectors (a store refuses another)' },
    efSearch: {
      type: 'integer',
      minimum: 1,
      maximum: 65536,
      description: 'Search breadth (recall vs speed)',
    },
    efConstruction: { type: 'integer', minimum: 1, maximum: 65536, description: 'Insert breadth' },
    connectivity: { type: 'integer', minimum: 2, maximum: 256, description: 'Links per graph node' },
  },
  required: ['path'],
  additionalProperties: false,
}

/** A vector backend the Rust core runs (the shipped SQLite store, or a native or Wasm plugin's),
 * through the binding's `BindingVectorStore`. */
export class CoreVectorBackend extends CorePlugin<BindingVectorStore> implements VectorMemoryBackendPlugin {
  async upsert(repoId: string, items: VectorItem[], ctx: PluginContext): Promise<void> {
    const store = this.instance
    const dims = store.info().dims
    if (!Array.isArray(items)) {
      throw new ModelportError({
        code: 'INVALID_REQUEST',
        plugin: this.name,
        message: 'items must be an array',
      })
    }
    const vectors = new Float32Array(items.length * dims)
    items.forEach((item, at) => {
      const length = (item?.vector as { length?: unknown } | undefined)?.length
      if (length !== dims) {
        throw new ModelportError({
          code: 'INVALID_REQUEST',
          plugin: this.name,
          jsonPath: `items[${at}].vector`,
          message: `items[${at}].vector has ${String(length)} dimensions; this store holds ${dims}`,
        })
      }
      vectors.set(item.vector, at * dims)
    })
    const batch = {
      ids: items.map((item) => item.id),
      vectors,
      metadata: items.map((item) => item.metadata),
      contents: items.map((item) => item.content),
    }
    await withSignal(ctx, 'upsert', (callId) => store.upsert(repoId, batch, callId))
  }

  async query(
    repoId: string,
    vector: Float32Array,
    topK: number,
    ctx: PluginContext,
    filter?: VectorQueryFilter,
  ): Promise<VectorQueryResult[]> {
    const store = this.instance
    const query = vector instanceof Float32Array ? vector : Float32Array.from(vector as ArrayLike<number>)
    const found = await withSignal(ctx, 'query', (callId) => store.query(repoId, query, topK, filter, callId))
    return found.map(({ id, score, metadata, content }) =>
      content == null ? { id, score, metadata } : { id, score, metadata, content },
    )
  }

  async deleteByIds(repoId: string, ids: string[], ctx: PluginContext): Promise<void> {
    const store = this.instance
    await withSignal(ctx, 'deleteByIds', (callId) => store.deleteByIds(repoId, ids, callId))
  }

  async wipeRepo(repoId: string, ctx: PluginContext): Promise<void> {
    const store = this.instance
    await withSignal(ctx, 'wipeRepo', () => store.wipeRepo(repoId))
  }

  async info(): Promise<VectorBackendInfo> {
    const info = this.instance.info()
    return {
      backend: info.backend,
      dims: info.dims,
      embedderId: info.embedderId,
      location: info.location,
      supportsFilters: info.supportsFilters,
    }
  }
}

/** `sqlite-vectors`: a persistent local vector store (see the README's "Reference plugins"). */
export class SqliteVectorBackend extends CoreVectorBackend {
  constructor() {
    super(NAME, { minVersion: 1, maxVersion: 1 }, (config) => {
      const path = config['path']
      const absolute = typeof path === 'string' && path !== ':memory:' ? resolve(path) : path
      return binding.BindingVectorStore.openSqlite(NAME, { ...config, path: absolute })
    })
  }
}

/** The `sqlite-vectors` plugin export. */
export const sqliteVectors: PluginExport<SqliteVectorBackend> = {
  manifest: {
    name: NAME,
    type: 'vector-backend',
    description: 'Persistent local vector store: SQLite for the items, an HNSW index per repo for queries',
    sdkVersion: { minVersion: 1, maxVersion: 1 },
    version: '1.0.0',
    configSchema: CONFIG_SCHEMA,
  },
  createPlugin: () => new SqliteVectorBackend(),
}
