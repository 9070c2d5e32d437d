// Case 6: footprint. RSS over 1,000,000 raw calls on one plugin; RSS after loading 50 Wasm
// providers; the size of the release .node.
import { statSync } from 'node:fs'

import { modelport, rssMiB, wasmPlugin } from '../lib/env.mjs'

/** `process.memoryUsage()` in MiB. */
function memory() {
  const usage = process.memoryUsage()
  return Object.fromEntries(Object.entries(usage).map(([key, bytes]) => [key, bytes / 2 ** 20]))
}

/** A full GC, then a pause for memory the plugins free on other threads. */
function settle() {
  globalThis.gc?.()
  return new Promise((resolve) => setTimeout(resolve, 300))
}

export async function run({ quick }) {
  const { ExtismPlugin, PluginRegistry } = modelport()
  const rows = []

  const calls = quick ? 100_000 : 1_000_000
  const plugin = await ExtismPlugin.load(wasmPlugin('echo'))
  // The same input every call, then a new input string (and so a new output) every call: what
  // grows is read apart (V8's heap, memory outside it that V8 accounts for, the rest: malloc).
  for (const fresh of [false, true]) {
    const inputOf = fresh ? (i) => `call ${i}` : () => 'hello world'
    for (let i = 0; i < 10_000; i++) plugin.callSync('echo', inputOf(i))
    await settle()
    const start = memory()
    let failures = 0
    let peak = start.rss
    for (let i = 0; i < calls; i++) {
      const input = inputOf(i)
      if (plugin.callSync('echo', input).length !== input.length) failures++
      if (i % 100_000 === 0) peak = Math.max(peak, rssMiB())
    }
    await settle()
    const end = memory()
    if (failures) throw new Error(`${failures} of ${calls} raw calls failed`)
    const what = fresh ? 'a new input string each' : 'one input, 11 B'
    rows.push(
      [`RSS before ${calls.toLocaleString('en')} raw calls (callSync echo, ${what})`, start.rss],
      [`RSS growth over them`, end.rss - start.rss],
      [`… of it V8's heap (heapTotal)`, end.heapTotal - start.heapTotal],
      [`… memory V8 accounts outside its heap (external)`, end.external - start.external],
      [`… the rest (native allocations: the binding, wasmtime, malloc's free lists)`, end.rss - start.rss - (end.heapTotal - start.heapTotal) - (end.external - start.external)],
      [`peak RSS during them`, peak],
    )
  }
  plugin.close()
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
      'One process: the raw calls first, then the providers. RSS read with process.memoryUsage.rss() after a full GC and a 300 ms pause.',
    tables: [{ columns: ['measure', 'MiB'], rows }],
    checks: [],
  }
}
