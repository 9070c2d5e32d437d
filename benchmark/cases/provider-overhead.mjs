// Case 2: a provider's per-call overhead without network. `chat()` on the `scripted` native
// provider and on an echo Wasm provider, against the floor: a plain async JS function doing the
// same JSON work (request to wire JSON and back, answer to JSON and back). And a TypeScript
// provider plugin (`modelport/sdk`) served through `Provider`, against calling its `generate`
// directly.
import { modelport, nativePlugin, wasmPlugin } from '../lib/env.mjs'
import { interleave, medianOf, timeCalls } from '../lib/stats.mjs'

const messages = [{ role: 'user', content: 'hello there, how are you today?' }]
// Per provider: 15 µs for native and TypeScript providers (issue 6); issue 19's 30 µs for the Wasm
// one, whose guest parses and writes the JSON itself.
const targetOverheadUs = {
  'scripted (native)': 15,
  'echo (Wasm)': 30,
  'TS provider plugin (through Provider)': 15,
}

/** What a provider call does with JSON, in plain JS: the messages in QueryMT's wire shape out,
 * parsed back, an answer built from the last message, serialized and parsed into the response. */
async function floorChat(input) {
  const wire = JSON.stringify({
    cfg: { model: 'echo' },
    messages: input.map((m) => ({
      role: m.role === 'user' ? 'User' : 'Assistant',
      content: [{ type: 'text', text: m.content }],
    })),
    tools: null,
  })
  const request = JSON.parse(wire)
  const last = request.messages
    .at(-1)
    .content.map((part) => part.text)
    .join('')
  const answer = JSON.parse(JSON.stringify({ text: last, finish_reason: 'Stop' }))
  return { text: answer.text, toolCalls: [], thinking: null, usage: null, finishReason: 'stop' }
}

export async function run({ quick }) {
  const { PluginRegistry } = modelport()
  const registry = await PluginRegistry.fromConfig({
    providers: [
      {
        name: 'scripted',
        path: nativePlugin('scripted'),
        config: { default_reply: '{{input}}', models: ['echo'] },
      },
      { name: 'echo-wasm', path: wasmPlugin('echo_provider'), max_instances: 1 },
    ],
  })
  const echoPlugin = {
    name: 'echo-ts',
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
    generate: async (req) => ({ text: req.messages.at(-1).content, finishReason: 'stop' }),
  }
  await registry.register({
    manifest: { name: 'echo-ts', type: 'provider', sdkVersion: { minVersion: 1 } },
    createPlugin: () => echoPlugin,
  })
  const ctx = { runId: 'bench', logger: { log() {} } }
  const direct = { chat: (input) => echoPlugin.generate({ messages: input }, ctx) }
  const tsProvider = await registry.builder('echo-ts').build()
  const scripted = await registry.builder('scripted').model('echo').build()
  const wasm = await registry.builder('echo-wasm').model('echo').build()
  for (const [name, provider] of [
    ['scripted', scripted],
    ['echo-wasm', wasm],
    ['floor', { chat: floorChat }],
    ['echo-ts', tsProvider],
    ['echo-ts direct', direct],
  ]) {
    const { text } = await provider.chat(messages)
    if (text !== messages[0].content) throw new Error(`${name} answered ${JSON.stringify(text)}`)
  }
  const batch = quick ? 300 : 3000
  const rounds = quick ? 3 : 9
  const contenders = [
    {
      name: 'plain async JS (floor)',
      measure: async () => ({ us: await timeCalls(batch, () => floorChat(messages)) }),
    },
    {
      name: 'scripted (native)',
      measure: async () => ({ us: await timeCalls(batch, () => scripted.chat(messages)) }),
    },
    { name: 'echo (Wasm)', measure: async () => ({ us: await timeCalls(batch, () => wasm.chat(messages)) }) },
    {
      name: 'TS plugin generate() directly',
      measure: async () => ({ us: await timeCalls(batch, () => direct.chat(messages)) }),
    },
    {
      name: 'TS provider plugin (through Provider)',
      measure: async () => ({ us: await timeCalls(batch, () => tsProvider.chat(messages)) }),
    },
  ]
  for (const contender of contenders) await contender.measure()
  const results = await interleave(contenders, rounds)
  await registry.close()

  const baselineOf = (name) =>
    name === 'TS provider plugin (through Provider)'
      ? 'TS plugin generate() directly'
      : 'plain async JS (floor)'
  const overheadOf = (name) =>
    medianOf(
      results[name].map((round, i) => ({ us: round.us - results[baselineOf(name)][i].us })),
      'us',
    )
  const isBaseline = (name) => name === 'plain async JS (floor)' || name === 'TS plugin generate() directly'
  const rows = contenders.map(({ name }) => [
    name,
    medianOf(results[name], 'us'),
    isBaseline(name) ? '—' : overheadOf(name),
    isBaseline(name) ? '—' : baselineOf(name),
  ])
  const providers = ['scripted (native)', 'echo (Wasm)', 'TS provider plugin (through Provider)']
  return {
    title: 'Provider overhead without network (chat() per call, concurrency 1)',
    method: `${rounds} interleaved rounds of ${batch} sequential awaited calls; overhead = median over rounds of (provider µs − baseline µs) in the same round; the baseline of the TS provider is its own generate() called directly.`,
    tables: [{ columns: ['contender', 'µs per call', 'overhead, µs', 'over'], rows }],
    checks: providers.map((name) => ({
      name:
        baselineOf(name) === 'plain async JS (floor)'
          ? `${name} chat() overhead over plain JS`
          : `${name} chat() overhead over its generate() called directly`,
      value: overheadOf(name),
      unit: 'µs',
      target: `≤ ${targetOverheadUs[name]} µs`,
      met: overheadOf(name) <= targetOverheadUs[name],
    })),
    chart: {
      title: 'Provider chat() overhead over the plain-JS floor (µs, lower is better)',
      lowerIsBetter: true,
      bars: providers.map((name) => ({
        group: 'chat() overhead',
        label: name,
        value: overheadOf(name),
        target: targetOverheadUs[name],
      })),
    },
  }
}
