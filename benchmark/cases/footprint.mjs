// Case 6: footprint. RSS over 1,000,000 raw calls on one plugin; RSS after loading 50 Wasm
// providers; the size of the release .node.
import { statSync } from 'node:fs'

import { modelport, rssMiB, wasmPlugin } from '../lib/env.mjs'

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
  const input = 'hello world'
  for (let i = 0; i < 10_000; i++) plugin.callSync('echo', input)
  await settle()
  const start = rssMiB()
  let failures = 0
  let peak = start
  for (let i = 0; i < calls; i++) {
    if (plugin.callSync('echo', input).length !== input.length) failures++
    if (i % 100_000 === 0) peak = Math.max(peak, rssMiB())
  }
  await settle()
  const end = rssMiB()
  plugin.close()
  if (failures) throw new Error(`${failures} of ${calls} raw calls failed`)
  rows.push(
    [`RSS before ${calls.toLocaleString('en')} raw calls (callSync echo, 11 B)`, start],
    [`RSS after them`, end],
    [`RSS growth over them`, end - start],
    [`peak RSS during them`, peak],
  )
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
