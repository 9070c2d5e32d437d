// Case 5: loading. Each load runs in a fresh process (a first load is first only once per
// process): the Wasm openai providers (the AssemblyScript fixture and QueryMT's own) with an empty compiled-module cache and again from the cache
// a previous process left, ExtismPlugin.load the same way, the JS SDKs' createPlugin, and the
// native openai plugin. Times cover the load call only, not Node's start or the binding's import.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { extismSdks, modelport, nativePlugin, querymtPlugin, wasmPlugin } from '../lib/env.mjs'
import { interleave, median, medianOf, now } from '../lib/stats.mjs'

const targetCachedMs = 5

/** One load in this process: prints `{"ms": …}`. */
async function loadOnce(kind) {
  const wasm = wasmPlugin('openai_v2')
  let started
  if (kind === 'provider' || kind === 'querymt' || kind === 'native') {
    const { PluginRegistry } = modelport()
    const path = { native: nativePlugin('openai'), provider: wasm, querymt: querymtPlugin }[kind]
    const entry = { name: 'p', path, config: { model: 'm' } }
    const registry = await PluginRegistry.fromConfig({ providers: [entry] })
    started = now()
    const [report] = await registry.loadAll()
    if (report.error) throw report.error
  } else if (kind === 'raw') {
    const { ExtismPlugin } = modelport()
    started = now()
    await ExtismPlugin.load(wasm)
  } else {
    const sdk = extismSdks[kind]()
    const bytes = readFileSync(wasm)
    started = now()
    await sdk.createPlugin({ wasm: [{ data: bytes }] }, { useWasi: false })
  }
  console.log(JSON.stringify({ ms: (now() - started) / 1e6 }))
}

function inChild(kind, cacheDir) {
  const output = execFileSync(process.execPath, [fileURLToPath(import.meta.url), kind], {
    env: { ...process.env, MODELPORT_CACHE_DIR: cacheDir },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  return JSON.parse(output.trim().split('\n').at(-1))
}

export async function run({ quick }) {
  const rounds = quick ? 3 : 9
  const scratch = mkdtempSync(join(tmpdir(), 'modelport-bench-load-'))
  const warmCache = join(scratch, 'warm')
  inChild('provider', warmCache) // fills the cache the "cached" loads read
  inChild('querymt', warmCache)
  inChild('raw', warmCache)
  let fresh = 0
  const emptyCache = () => join(scratch, `empty-${fresh++}`)
  const contenders = [
    {
      name: 'Wasm provider (openai_v2), empty cache',
      measure: async () => inChild('provider', emptyCache()),
    },
    { name: 'Wasm provider (openai_v2), cached', measure: async () => inChild('provider', warmCache) },
    {
      name: 'Wasm provider (QueryMT openai), empty cache',
      measure: async () => inChild('querymt', emptyCache()),
    },
    { name: 'Wasm provider (QueryMT openai), cached', measure: async () => inChild('querymt', warmCache) },
    { name: 'ExtismPlugin.load, empty cache', measure: async () => inChild('raw', emptyCache()) },
    { name: 'ExtismPlugin.load, cached', measure: async () => inChild('raw', warmCache) },
    ...Object.keys(extismSdks).map((sdk) => ({
      name: `${sdk} createPlugin`,
      measure: async () => inChild(sdk, emptyCache()),
    })),
    { name: 'native plugin (openai)', measure: async () => inChild('native', emptyCache()) },
  ]
  const results = await interleave(contenders, rounds)
  rmSync(scratch, { recursive: true, force: true })
  const cached = medianOf(results['Wasm provider (openai_v2), cached'], 'ms')
  return {
    title: 'Loading (each load in a fresh process)',
    method: `${rounds} interleaved rounds, one process per load; medians over rounds. The Wasm files are openai_v2.wasm (AssemblyScript, ${readFileSync(wasmPlugin('openai_v2')).length.toLocaleString('en')} bytes) and QueryMT's qmt_openai.wasm (Rust, ${readFileSync(querymtPlugin).length.toLocaleString('en')} bytes).`,
    tables: [
      {
        columns: ['load', 'ms (median)', 'min', 'max'],
        rows: contenders.map(({ name }) => {
          const ms = results[name].map((r) => r.ms)
          return [name, median(ms), Math.min(...ms), Math.max(...ms)]
        }),
      },
    ],
    checks: [
      {
        name: 'cached Wasm provider load',
        value: cached,
        unit: 'ms',
        target: `< ${targetCachedMs} ms`,
        met: cached < targetCachedMs,
      },
    ],
    chart: {
      title: 'Load time, ms (lower is better; target for the cached Wasm provider: 5 ms)',
      lowerIsBetter: true,
      bars: contenders.map(({ name }) => ({
        group: 'load',
        label: name,
        value: medianOf(results[name], 'ms'),
      })),
    },
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await loadOnce(process.argv[2])
