// Case: a host-function round trip. The same AssemblyScript-PDK module (wasm/as/host_functions.ts)
// calls a JavaScript host function that echoes its 1 KiB argument (read it from plugin memory,
// store it back), through modelport's ExtismPlugin (callSync: inline; call: the Wasm thread waits
// for the JS thread) and through the Extism JS SDKs, given the same host functions.
import { readFileSync } from 'node:fs'

import { extismSdks, modelport, wasmPlugin } from '../lib/env.mjs'
import { interleave, medianOf, ratioOf, timeCalls, timeCallsSync } from '../lib/stats.mjs'

const target = 2
const baselineName = '@extism/extism 2.0.0-rc13'

/** The fixture's imports; `transform` echoes its argument, the others are never called here. */
const userFunctions = {
  transform: (ctx, offset) => ctx.store(ctx.read(offset).bytes()),
  add_i32: (_ctx, a, b) => a + b,
  add_i64: (_ctx, a, b) => a + b,
  halve: (_ctx, x) => x / 2,
  note: () => {},
}

export async function run({ quick }) {
  const { ExtismPlugin } = modelport()
  const wasm = readFileSync(wasmPlugin('host_functions'))
  const input = new TextEncoder().encode('x'.repeat(1024))
  const functions = { 'extism:host/user': userFunctions }
  const ours = await ExtismPlugin.load(wasm, { functions })
  const sdks = []
  for (const [name, load] of Object.entries(extismSdks)) {
    // 1.0.3 fails after 16,384 memory blocks (see raw-call): a new plugin per measured batch.
    const create = () => load().createPlugin({ wasm: [{ data: wasm }] }, { useWasi: false, functions })
    sdks.push({ name, create })
  }
  const expected = ours.callSync('transform_input', input)
  if (expected.length !== 1024) throw new Error(`modelport answered ${expected.length} bytes`)
  for (const { name, create } of sdks) {
    const plugin = await create()
    const output = (await plugin.call('transform_input', input)).bytes()
    if (output.length !== 1024) throw new Error(`${name} answered ${output.length} bytes`)
    await plugin.close()
  }
  const batch = quick ? 300 : 3000
  const rounds = quick ? 3 : 9
  const contenders = [
    {
      name: 'modelport callSync',
      measure: async () => ({ us: timeCallsSync(batch, () => ours.callSync('transform_input', input)) }),
    },
    {
      name: 'modelport call',
      measure: async () => ({ us: await timeCalls(batch, () => ours.call('transform_input', input)) }),
    },
    ...sdks.map(({ name, create }) => ({
      name,
      measure: async () => {
        const plugin = await create()
        const us = await timeCalls(batch, async () => (await plugin.call('transform_input', input)).bytes())
        await plugin.close()
        return { us }
      },
    })),
  ]
  for (const contender of contenders) await contender.measure()
  const results = await interleave(contenders, rounds)
  ours.close()
  const rows = contenders.map(({ name }) => [
    name,
    medianOf(results[name], 'us'),
    name.startsWith('modelport') ? ratioOf(results[baselineName], results[name], 'us') : '—',
  ])
  const checks = ['modelport callSync', 'modelport call'].map((name) => {
    const speedup = ratioOf(results[baselineName], results[name], 'us')
    return {
      name: `host-function round trip (1 KiB echo): ${name} vs ${baselineName}`,
      value: speedup,
      unit: '×',
      target: `≥ ${target}×`,
      met: speedup >= target,
    }
  })
  return {
    title: 'Host-function round trip (a plugin calling a JS host function that echoes 1 KiB)',
    method: `${rounds} interleaved rounds of ${batch} sequential calls; speed-up = median over rounds of (${baselineName} µs / modelport µs) in the same round.`,
    tables: [{ columns: ['contender', 'µs per call', `speed-up vs ${baselineName}`], rows }],
    checks,
    chart: {
      title: `Host-function round trip: speed-up over ${baselineName} (×; target ${target}×)`,
      bars: checks.map((check) => ({
        group: 'host function 1 KiB',
        label: check.name.includes('callSync') ? 'callSync' : 'call',
        value: check.value,
        target,
      })),
    },
  }
}
