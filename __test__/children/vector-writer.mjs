// Writes a vector store from its own process and exits (through registry.close(), or abruptly
// with "crash"), so a test can read the store from another process.
// Usage: node vector-writer.mjs <db path> <count> <close|crash>
import { PluginRegistry } from '../../dist/index.js'
import { localEmbedding, sqliteVectors } from '../../dist/src/sdk/index.js'

const [path, count, ending] = process.argv.slice(2)
const registry = await PluginRegistry.fromConfig({ providers: [] })
const store = await registry.register(sqliteVectors, { path, dims: 64, embedderId: 'local-64' })
const ctx = { runId: 'writer', logger: { log() {} } }
const items = Array.from({ length: Number(count) }, (_, i) => ({
  id: `doc-${i}`,
  vector: localEmbedding(`document number ${i} about topic ${i % 7}`, 64),
  metadata: { topic: i % 7, writer: process.pid },
  content: `document number ${i}`,
}))
await store.upsert('shared', items, ctx)
if (ending === 'crash') process.exit(3)
await registry.close()
