// `npm run soak` (not part of `npm test`): long runs that must end with zero failures and
// bounded memory and file descriptors, on the release build.
//   1,000,000 raw Wasm calls (callSync echo), 100,000 provider chats against the embedded server
//   (native and Wasm openai plugins, 16 in flight), 10,000 load/close cycles of a registry.
// Prints RSS and open file descriptors at the start and end of each phase; exits 1 on a failure.
//
//   npm run soak                 everything
//   npm run soak -- --scale 0.1  a tenth of every count (a quick check of the script itself)
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

import { build, buildReleasePlugins, dllExt, root } from './build.mjs'
import { buildReleaseBinary } from './build.mjs'

const { values } = parseArgs({ options: { scale: { type: 'string' }, child: { type: 'boolean' } } })
const scale = Number(values.scale ?? 1)

function measure() {
  const fds = process.platform === 'linux' ? readdirSync('/proc/self/fd').length : NaN
  return { rssMiB: process.memoryUsage.rss() / 2 ** 20, fds }
}

function line(phase, start, end, failures, extra = '') {
  const mib = (v) => `${v.toFixed(1)} MiB`
  console.log(
    `${phase}: ${failures} failures; RSS ${mib(start.rssMiB)} → ${mib(end.rssMiB)} (${end.rssMiB >= start.rssMiB ? '+' : ''}${mib(end.rssMiB - start.rssMiB)}); open fds ${start.fds} → ${end.fds}${extra}`,
  )
}

async function settle() {
  globalThis.gc?.()
  await new Promise((resolve) => setTimeout(resolve, 500))
}

/**
 * Runs one soak phase: `prepare()` loads what the phase needs and returns `run` (resolves to the
 * number of failures) and an optional `cleanup`; RSS and open fds are measured around `run`,
 * after a GC and a pause, with `cleanup` inside the measured span. Returns the failures.
 */
async function phase(title, prepare) {
  const { run, cleanup } = await prepare()
  await settle()
  const start = measure()
  const started = Date.now()
  const failures = await run()
  await cleanup?.()
  await settle()
  line(title, start, measure(), failures, `; ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return failures
}

/** Counts the calls of `work` that throw. */
async function failuresOf(work) {
  try {
    return (await work()) === false ? 1 : 0
  } catch {
    return 1
  }
}

async function soak() {
  const { ExtismPlugin, PluginRegistry } = await import(join(root, 'dist', 'index.js'))
  const { startMockOpenAI } = await import(join(root, 'dist', 'src', 'testing', 'index.js'))
  const wasmFile = (name) => join(root, 'wasm', 'build', `${name}.wasm`)
  const nativeFile = (name) => join(root, 'build', 'release', 'plugins', `${name}.${dllExt}`)
  const count = (n) => Math.round(n * scale)
  let total = 0

  // 1. Raw Wasm calls (synchronous on purpose: no await between calls).
  const calls = count(1_000_000)
  total += await phase(`${calls.toLocaleString('en')} raw Wasm calls`, async () => {
    const plugin = await ExtismPlugin.load(wasmFile('echo'))
    return {
      run: async () => {
        let failures = 0
        for (let i = 0; i < calls; i++) {
          const input = `call ${i}`
          try {
            if (Buffer.from(plugin.callSync('echo', input)).toString() !== input) failures++
          } catch {
            failures++
          }
        }
        return failures
      },
      cleanup: async () => plugin.close(),
    }
  })

  // 2. Provider chats against the embedded server.
  const chats = count(100_000)
  total += await phase(
    `${chats.toLocaleString('en')} provider chats (native and Wasm openai, 16 in flight)`,
    async () => {
      const server = await startMockOpenAI()
      setInterval(() => server.requests.splice(0), 1000).unref()
      const config = { base_url: server.url, model: 'gpt-4o-mini', api_key: 'sk-soak' }
      const registry = await PluginRegistry.fromConfig({
        providers: [
          { name: 'native', path: nativeFile('openai'), config },
          { name: 'wasm', path: wasmFile('openai_v2'), config },
        ],
      })
      const providers = [await registry.builder('native').build(), await registry.builder('wasm').build()]
      let next = 0
      let failures = 0
      return {
        run: async () => {
          await Promise.all(
            Array.from({ length: 16 }, async () => {
              while (next < chats) {
                const i = next++
                failures += await failuresOf(async () => {
                  const { text } = await providers[i % 2].chat([{ role: 'user', content: `chat ${i}` }])
                  return text === `Echo: chat ${i}`
                })
              }
            }),
          )
          return failures
        },
        cleanup: async () => {
          await registry.close()
          await server.close()
        },
      }
    },
  )

  // 3. Registry load/close cycles.
  const cycles = count(10_000)
  total += await phase(
    `${cycles.toLocaleString('en')} registry load/close cycles (a native and a Wasm plugin)`,
    async () => ({
      run: async () => {
        let failures = 0
        for (let i = 0; i < cycles; i++) {
          failures += await failuresOf(async () => {
            const registry = await PluginRegistry.fromConfig({
              providers: [
                { name: 'native', path: nativeFile('scripted') },
                { name: 'wasm', path: wasmFile('echo_provider'), config: { model: 'echo' } },
              ],
            })
            const reports = await registry.loadAll()
            await registry.close()
            return !reports.some((report) => report.error)
          })
        }
        return failures
      },
    }),
  )

  console.log(total === 0 ? '\nsoak: 0 failures' : `\nsoak: ${total} failures`)
  process.exit(total === 0 ? 0 : 1)
}

if (values.child) {
  await soak()
} else {
  build()
  const binding = buildReleaseBinary(join(root, 'build', 'release'))
  buildReleasePlugins()
  console.log('\n▶ soak (release build)')
  const result = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      fileURLToPath(import.meta.url),
      '--child',
      ...(values.scale ? ['--scale', values.scale] : []),
    ],
    { stdio: 'inherit', env: { ...process.env, MODELPORT_BINDING_PATH: binding } },
  )
  process.exit(result.status ?? 1)
}
