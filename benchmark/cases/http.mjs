// Case 3: the HTTP path. chat() through the native and Wasm `openai` plugins (the AssemblyScript
// fixture and QueryMT's own), Node's fetch + JSON.parse, and the official `openai` client, against the same embedded server in another
// process: 20,000 requests per client at concurrency 1 and at 64. Throughput, p50/p99 latency,
// and the client process's CPU time per request (all its threads: modelport's HTTP runs on Rust
// threads inside it), the fair figure when the server shares the 2 cores.
import { chatClients } from '../lib/clients.mjs'
import { startServer } from '../lib/server.mjs'
import { interleave, medianOf, now, percentile, ratioOf } from '../lib/stats.mjs'

const ours = ['modelport native', 'modelport Wasm', 'modelport Wasm (QueryMT)']
const baseline = 'fetch + JSON.parse'

/** `total` chats with `concurrency` in flight; returns throughput, latency percentiles, CPU. */
async function load(chat, total, concurrency) {
  const latencies = new Float64Array(total)
  let next = 0
  const cpuBefore = process.cpuUsage()
  const started = now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++
        const t = now()
        const text = await chat('hello')
        latencies[i] = (now() - t) / 1e6
        if (text !== 'Echo: hello') throw new Error(`unexpected answer ${JSON.stringify(text)}`)
      }
    }),
  )
  const seconds = (now() - started) / 1e9
  const cpu = process.cpuUsage(cpuBefore)
  return {
    rps: total / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpuUs: (cpu.user + cpu.system) / total,
  }
}

export async function run({ quick }) {
  const server = await startServer()
  const { clients, close } = await chatClients(server.baseUrl)
  const rounds = quick ? 2 : 5
  const perRound = (quick ? 2000 : 20_000) / rounds
  const rows = []
  const checks = []
  const bars = []
  try {
    for (const concurrency of [1, 64]) {
      const contenders = Object.entries(clients).map(([name, client]) => ({
        name,
        measure: () => load(client.chat, perRound, concurrency),
      }))
      for (const contender of contenders) await load(clients[contender.name].chat, 200, concurrency) // warm-up
      const results = await interleave(contenders, rounds)
      for (const name of Object.keys(clients)) {
        const r = results[name]
        rows.push([
          concurrency,
          name,
          medianOf(r, 'rps'),
          medianOf(r, 'p50'),
          medianOf(r, 'p99'),
          medianOf(r, 'cpuUs'),
          ratioOf(r, results[baseline], 'cpuUs'),
          ratioOf(r, results[baseline], 'rps'),
          ratioOf(r, results[baseline], 'p99'),
        ])
      }
      for (const name of ours) {
        const cpu = ratioOf(results[name], results[baseline], 'cpuUs')
        const rps = ratioOf(results[name], results[baseline], 'rps')
        const p99 = ratioOf(results[name], results[baseline], 'p99')
        bars.push({
          group: `concurrency ${concurrency}`,
          label: name.replace('modelport ', ''),
          value: cpu,
          target: 2 / 3,
        })
        checks.push(
          {
            name: `c=${concurrency} ${name}: client CPU per request vs fetch`,
            value: cpu,
            unit: '×',
            target: '≤ 0.67×',
            met: cpu <= 2 / 3,
          },
          {
            name: `c=${concurrency} ${name}: throughput vs fetch`,
            value: rps,
            unit: '×',
            target: '≥ 1×',
            met: rps >= 1,
          },
          {
            name: `c=${concurrency} ${name}: p99 latency vs fetch`,
            value: p99,
            unit: '×',
            target: '≤ 1×',
            met: p99 <= 1,
          },
        )
      }
    }
  } finally {
    await close()
    server.stop()
  }
  return {
    title: 'HTTP path: chat() against the embedded server in another process',
    method: `${rounds} interleaved rounds of ${perRound} requests per client and concurrency (${rounds * perRound} in all); figures are medians over rounds; ratios are medians of per-round ratios to fetch. CPU = the client process's user + system time (all threads) per request.`,
    tables: [
      {
        columns: [
          'concurrency',
          'client',
          'requests/s',
          'p50 ms',
          'p99 ms',
          'client CPU µs/request',
          'CPU vs fetch',
          'throughput vs fetch',
          'p99 vs fetch',
        ],
        rows,
      },
    ],
    checks,
    chart: {
      title: 'HTTP chat(): client CPU per request relative to fetch (lower is better; target ≤ 0.67)',
      lowerIsBetter: true,
      bars,
    },
  }
}
