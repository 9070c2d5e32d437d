// Case 9: the gateway. modelport's gateway (modelport/gateway on the release-built native `openai`
// plugin) and LiteLLM's proxy (its defaults: one worker) in front of the same upstream (the
// embedded server), and that upstream called directly, each server in a process of its own. A
// load generator on Node's http (keep-alive, one socket per request in flight) sends chat
// completions for a fixed time per round at concurrency 1 and 64, and streams of 200 chunks.
// Beside them, the HTTP layer alone: Node's http and hyper answering fixed bytes (what the
// gateway's server costs, and what a Rust server could save at most).
import { request as httpRequest, Agent } from 'node:http'

import { buildHyperServer, startHyperFixed, startNodeFixed } from '../lib/fixed-answer-servers.mjs'
import { startGateway } from '../lib/gateway-server.mjs'
import { startLiteLLM } from '../lib/litellm.mjs'
import { startServer } from '../lib/server.mjs'
import { interleave, median, medianOf, now, percentile, ratioOf } from '../lib/stats.mjs'

const streamChunks = 200
const fixedAnswer = JSON.stringify({
  id: 'chatcmpl-fixed',
  object: 'chat.completion',
  created: 0,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Echo: hello' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
})

/** POSTs `body` to `url` on `agent`; calls `onData(text)` per piece; resolves at the end. */
function post(agent, url, body, onData) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: 'Bearer sk-benchmark',
        },
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume()
          return reject(new Error(`${url}: HTTP ${res.statusCode}`))
        }
        res.setEncoding('utf8')
        res.on('data', onData)
        res.on('end', resolve)
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

/** One target's request functions: `chat()` checks the answer, `stream()` returns content chunks. */
function client(baseUrl, model) {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 })
  const chatBody = JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] })
  const streamBody = JSON.stringify({
    model,
    messages: [{ role: 'user', content: `stream ${streamChunks}` }],
    stream: true,
  })
  return {
    chat: async () => {
      let text = ''
      await post(agent, `${baseUrl}/chat/completions`, chatBody, (piece) => (text += piece))
      const answer = JSON.parse(text).choices[0].message.content
      if (answer !== 'Echo: hello') throw new Error(`${baseUrl}: unexpected answer ${JSON.stringify(answer)}`)
    },
    stream: async () => {
      let pending = ''
      let chunks = 0
      let done = false
      await post(agent, `${baseUrl}/chat/completions`, streamBody, (piece) => {
        pending += piece
        const events = pending.split('\n\n')
        pending = events.pop()
        for (const event of events) {
          const data = event.replace(/^data: /, '')
          if (data === '[DONE]') done = true
          else if (JSON.parse(data).choices?.[0]?.delta?.content) chunks++
        }
      })
      if (!done || chunks !== streamChunks)
        throw new Error(`${baseUrl}: a stream ended after ${chunks} chunks (done: ${done})`)
      return chunks
    },
    close: () => agent.destroy(),
  }
}

/** Runs `once()` with `concurrency` in flight for `seconds`; latency, throughput, server CPU. */
async function loadFor(server, once, seconds, concurrency) {
  const latencies = []
  let units = 0
  const cpuBefore = server.cpuSeconds()
  const started = now()
  const deadline = started + seconds * 1e9
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (now() < deadline) {
        const t = now()
        // Awaited before the sum: `units += await …` would read `units` before the await and
        // lose what the other requests in flight added meanwhile.
        const done = (await once()) ?? 1
        units += done
        latencies.push((now() - t) / 1e6)
      }
    }),
  )
  const elapsed = (now() - started) / 1e9
  return {
    rps: latencies.length / elapsed,
    unitsPerSecond: units / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    serverCpuUs: ((server.cpuSeconds() - cpuBefore) * 1e6) / latencies.length,
  }
}

/** The median over rounds of `a[field] − b[field]` (both measured in the same round). */
function differenceOf(a, b, field) {
  return median(a.map((round, i) => round[field] - b[i][field]))
}

export async function run({ quick }) {
  const hyperExecutable = buildHyperServer()
  const upstream = await startServer()
  const servers = {
    'upstream, direct': upstream,
    'modelport gateway': await startGateway(upstream.baseUrl),
    "LiteLLM's proxy 1.77.7": await startLiteLLM(upstream.baseUrl),
    'Node http, fixed answer': await startNodeFixed(fixedAnswer),
    'hyper, fixed answer': await startHyperFixed(hyperExecutable, fixedAnswer),
  }
  const direct = 'upstream, direct'
  const ours = 'modelport gateway'
  const litellm = "LiteLLM's proxy 1.77.7"
  const models = { [ours]: 'openai:gpt-4o-mini' }
  const clients = Object.fromEntries(
    Object.entries(servers).map(([name, server]) => [
      name,
      client(server.baseUrl, models[name] ?? 'gpt-4o-mini'),
    ]),
  )
  const rounds = quick ? 2 : 5
  const seconds = quick ? 1 : 3
  const rows = []
  const streamRows = []
  const checks = []
  const bars = []
  try {
    for (const concurrency of [1, 64]) {
      const contenders = Object.keys(servers).map((name) => ({
        name,
        measure: () => loadFor(servers[name], clients[name].chat, seconds, concurrency),
      }))
      for (const { measure } of contenders) await measure() // warm-up
      const results = await interleave(contenders, rounds)
      for (const name of Object.keys(servers)) {
        const r = results[name]
        const proxied = name === ours || name === litellm
        rows.push([
          concurrency,
          name,
          medianOf(r, 'rps'),
          medianOf(r, 'p50'),
          medianOf(r, 'p99'),
          proxied ? differenceOf(r, results[direct], 'p50') : '',
          proxied ? differenceOf(r, results[direct], 'p99') : '',
          medianOf(r, 'serverCpuUs'),
          name === litellm ? '' : ratioOf(r, results[litellm], 'rps'),
        ])
      }
      const throughput = ratioOf(results[ours], results[litellm], 'rps')
      const addedP99 = median(
        results[ours].map(
          (round, i) =>
            (round.p99 - results[direct][i].p99) / (results[litellm][i].p99 - results[direct][i].p99),
        ),
      )
      const addedP50 = differenceOf(results[ours], results[direct], 'p50')
      bars.push({ group: `concurrency ${concurrency}`, label: 'throughput', value: throughput, target: 5 })
      checks.push(
        {
          name: `c=${concurrency} gateway throughput vs LiteLLM's proxy`,
          value: throughput,
          unit: '×',
          target: '≥ 5×',
          met: throughput >= 5,
        },
        {
          name: `c=${concurrency} gateway added p99 vs LiteLLM's added p99`,
          value: addedP99,
          unit: '×',
          target: '≤ 0.33×',
          met: addedP99 <= 1 / 3,
        },
      )
      if (concurrency === 1)
        checks.push({
          name: 'c=1 gateway added p50 latency over the upstream alone',
          value: addedP50,
          unit: 'ms',
          target: '≤ 1 ms',
          met: addedP50 <= 1,
        })
    }
    const streamed = [direct, ours, litellm]
    for (const concurrency of [1, 64]) {
      const contenders = streamed.map((name) => ({
        name,
        measure: () => loadFor(servers[name], clients[name].stream, seconds, concurrency),
      }))
      for (const { measure } of contenders) await measure() // warm-up
      const results = await interleave(contenders, rounds)
      for (const name of streamed) {
        const r = results[name]
        streamRows.push([
          concurrency,
          name,
          medianOf(r, 'unitsPerSecond'),
          medianOf(r, 'p50'),
          medianOf(r, 'serverCpuUs') / streamChunks,
          name === litellm ? '' : ratioOf(r, results[litellm], 'unitsPerSecond'),
        ])
      }
      bars.push({
        group: `concurrency ${concurrency}`,
        label: 'stream chunks/s',
        value: ratioOf(results[ours], results[litellm], 'unitsPerSecond'),
      })
    }
  } finally {
    for (const c of Object.values(clients)) c.close()
    for (const server of Object.values(servers)) server.stop()
  }
  return {
    title: "Gateway: modelport's gateway and LiteLLM's proxy in front of the same upstream",
    method: `Each server in a process of its own; the upstream is the embedded server. ${rounds} interleaved rounds of ${seconds} s per server and concurrency; figures are medians over rounds; "added" = the median over rounds of (through the proxy − the upstream alone, same round). Server CPU = that server process's user + system time per request (LiteLLM: its one worker; the gateway: all its threads). The fixed-answer servers read the body and answer fixed bytes: the HTTP layer alone.`,
    tables: [
      {
        caption: 'Chat completions (not streamed)',
        columns: [
          'concurrency',
          'server',
          'requests/s',
          'p50 ms',
          'p99 ms',
          'added p50 ms',
          'added p99 ms',
          'server CPU µs/request',
          "throughput vs LiteLLM's",
        ],
        rows,
      },
      {
        caption: `Streams of ${streamChunks} chunks`,
        columns: [
          'concurrency',
          'server',
          'chunks/s',
          'p50 ms per stream',
          'server CPU µs/chunk',
          "chunks/s vs LiteLLM's",
        ],
        rows: streamRows,
      },
    ],
    checks,
    chart: {
      title: "Gateway relative to LiteLLM's proxy (higher is better; target ≥ 5)",
      lowerIsBetter: false,
      bars,
    },
  }
}
