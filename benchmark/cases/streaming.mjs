// Case 4: streaming. One stream of 100,000 SSE chunks through chatStream (native and Wasm openai
// plugins, the AssemblyScript fixture and QueryMT's own) against fetch + eventsource-parser (and the openai client's own stream), same server.
import { chatClients } from '../lib/clients.mjs'
import { startServer } from '../lib/server.mjs'
import { interleave, medianOf, now, ratioOf } from '../lib/stats.mjs'

const ours = ['modelport native', 'modelport Wasm', 'modelport Wasm (QueryMT)']
const baseline = 'fetch + JSON.parse'
// Chunks/s over fetch + eventsource-parser: 2× for the native plugin (issue 6), 0.5× for the Wasm
// ones (issue 19), whose guests parse each line themselves.
const targetOf = (name) => (name === 'modelport native' ? 2 : 0.5)

export async function run({ quick }) {
  const chunks = quick ? 20_000 : 100_000
  const rounds = quick ? 2 : 5
  const server = await startServer()
  const { clients, close } = await chatClients(server.baseUrl)
  let results
  try {
    const contenders = Object.entries(clients).map(([name, client]) => ({
      name,
      measure: async () => {
        const cpuBefore = process.cpuUsage()
        const started = now()
        const received = await client.stream(`stream ${chunks}`)
        const seconds = (now() - started) / 1e9
        const cpu = process.cpuUsage(cpuBefore)
        if (received !== chunks) throw new Error(`${name} received ${received} of ${chunks} chunks`)
        return { chunksPerSecond: chunks / seconds, cpuNsPerChunk: ((cpu.user + cpu.system) * 1000) / chunks }
      },
    }))
    for (const { name } of contenders) await clients[name].stream('stream 1000') // warm-up
    results = await interleave(contenders, rounds)
  } finally {
    await close()
    server.stop()
  }
  const rows = Object.keys(results).map((name) => [
    name === baseline ? 'fetch + eventsource-parser' : name,
    medianOf(results[name], 'chunksPerSecond'),
    medianOf(results[name], 'cpuNsPerChunk'),
    ratioOf(results[name], results[baseline], 'chunksPerSecond'),
  ])
  const speedups = ours.map((name) => [name, ratioOf(results[name], results[baseline], 'chunksPerSecond')])
  return {
    title: `Streaming: one stream of ${chunks.toLocaleString('en')} SSE chunks`,
    method: `${rounds} interleaved rounds, one whole stream each; medians over rounds; ratio = median of per-round ratios to fetch + eventsource-parser.`,
    tables: [
      { columns: ['client', 'chunks/s', 'client CPU ns/chunk', 'vs fetch + eventsource-parser'], rows },
    ],
    checks: speedups.map(([name, value]) => ({
      name: `${name} chatStream chunks/s vs fetch + eventsource-parser`,
      value,
      unit: '×',
      target: `≥ ${targetOf(name)}×`,
      met: value >= targetOf(name),
    })),
    chart: {
      title: 'Streaming: chunks/s relative to fetch + eventsource-parser (×)',
      bars: speedups.map(([name, value]) => ({
        group: 'chatStream',
        label: name.replace('modelport ', ''),
        value,
        target: targetOf(name),
      })),
    },
  }
}
