// Case 6: footprint. RSS over 1,000,000 raw calls on one plugin (one input; fresh inputs; the
// same loop in JS alone); RSS after loading 50 Wasm providers; the size of the release .node.
import { spawnSync } from 'node:child_process'
import { statSync } from 'node:fs'
import { join } from 'node:path'

import { modelport, root, rssMiB, wasmPlugin } from '../lib/env.mjs'

/** A full GC, then a pause for memory the plugins free on other threads. */
function settle() {
  globalThis.gc?.()
  return new Promise((resolve) => setTimeout(resolve, 300))
}

export async function run({ quick }) {
  const { PluginRegistry } = modelport()
  const rows = []

  const calls = quick ? 100_000 : 1_000_000
  // Each loop in a process of its own (benchmark/lib/call-loop-memory.mjs); what grows is read
  // apart: V8's heap, memory outside it that V8 accounts for, the rest (native allocations).
  const loops = [
    ['same', 'callSync echo, one 11 B input'],
    ['fresh', 'callSync echo, a new input string each call'],
    ['js', 'the floor, JS alone: a new string and Buffer.from(it) each time'],
    ['js-array', 'JS alone: a new string and a new Uint8Array copy of it each time'],
  ]
  const growth = {}
  for (const [loop, what] of loops) {
    const child = spawnSync(
      process.execPath,
      ['--expose-gc', join(root, 'benchmark', 'lib', 'call-loop-memory.mjs'), loop, String(calls)],
      { encoding: 'utf8' },
    )
    if (child.status !== 0) throw new Error(`the ${loop} loop failed: ${child.stderr}`)
    const { start, end, peak, failures } = JSON.parse(child.stdout)
    if (failures) throw new Error(`${failures} of ${calls} calls failed in the ${loop} loop`)
    growth[loop] = end.rss - start.rss
    const heap = end.heapTotal - start.heapTotal
    const external = end.external - start.external
    rows.push(
      [`RSS growth over ${calls.toLocaleString('en')} calls (${what})`, end.rss - start.rss],
      [`… of it V8's heap (heapTotal)`, heap],
      [`… of it memory V8 accounts outside its heap (external)`, external],
      [`… the rest (native: the binding, wasmtime, malloc)`, end.rss - start.rss - heap - external],
      [`… peak RSS during them (from ${start.rss.toFixed(1)} before)`, peak],
    )
  }
  await settle()
  const beforeProviders = rssMiB()
  const count = 50
  const registry = await PluginRegistry.fromConfig({
    providers: Array.from({ length: count }, (_, i) => ({
      name: `wasm-${i}`,
      path: wasmPlugin('openai_v2'),
      config: { model: 'gpt-4o-mini', base_url: 'http://127.0.0.1:9/v1' },
    })),
  })
  const reports = await registry.loadAll()
  const failed = reports.filter((report) => report.error)
  if (failed.length) throw failed[0].error
  const providers = []
  for (let i = 0; i < count; i++) providers.push(await registry.builder(`wasm-${i}`).build())
  await settle()
  const afterProviders = rssMiB()
  rows.push(
    ['RSS before loading the providers', beforeProviders],
    [`RSS after loading and building ${count} Wasm providers (openai_v2)`, afterProviders],
  )
  rows.push([`RSS per Wasm provider`, (afterProviders - beforeProviders) / count])
  await registry.close()

  const binary = statSync(process.env.MODELPORT_BINDING_PATH).size / 1024 / 1024
  rows.push(['release .node size', binary])
  return {
    title: 'Footprint',
    method:
      'Each loop of calls in a process of its own, then the providers in the case process. Memory read with process.memoryUsage() after a full GC and a 300 ms pause.',
    tables: [{ columns: ['measure', 'MiB'], rows }],
    checks: [
      {
        name: `RSS growth over ${calls.toLocaleString('en')} raw calls with fresh inputs, beyond the same loop in JS alone`,
        value: growth.fresh - growth.js,
        unit: 'MiB',
        target: '< 8 MiB',
        met: growth.fresh - growth.js < 8,
      },
    ],
  }
}
