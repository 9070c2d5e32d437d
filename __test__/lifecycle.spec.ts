import { execFile } from 'node:child_process'

import test from 'ava'
import { PluginRegistry } from 'modelport'

import { failure, fixture, plugin, root, SLACK_MS, SLOW_PATH_MS, timed, wasmProvider } from './helpers'

test.serial('close() aborts calls in flight with ABORTED, promptly, and refuses new ones', async (t) => {
  const registry = await PluginRegistry.fromConfig({
    providers: [{ name: 'bot', path: plugin('scripted'), config: { latency_ms: SLOW_PATH_MS } }],
  })
  const provider = await registry.builder('bot').build()
  const inFlight = provider.chat([{ role: 'user', content: 'x' }])
  await new Promise((resolve) => setTimeout(resolve, 50))
  const [error, ms] = await timed(async () => {
    await registry.close()
    return failure(t, inFlight)
  })
  t.is(error?.code, 'ABORTED')
  t.true(ms < SLACK_MS, `took ${ms} ms (the answer was 60 s away)`)
  t.is((await failure(t, provider.chat([{ role: 'user', content: 'y' }])))?.code, 'ABORTED')
  t.is((await failure(t, registry.builder('bot').build()))?.code, 'ABORTED')
})

test('dropping the registry while a provider is still used does not crash', async (t) => {
  let provider
  {
    const registry = await PluginRegistry.fromConfig({
      providers: [{ name: 'bot', path: plugin('scripted') }],
    })
    provider = await registry.builder('bot').build()
  }
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.()
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  t.is((await provider.chat([{ role: 'user', content: 'alive' }])).text, 'alive')
  t.deepEqual((await provider.embed(['a'])).length, 1)
})

/** Runs a script in a child Node process with modelport, without blocking this one. */
function node(
  script: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-e', script],
      { cwd: root, encoding: 'utf8', timeout: 40_000, env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        const status = error ? (typeof error.code === 'number' ? error.code : null) : 0
        resolve({ status, stdout, stderr })
      },
    )
  })
}

test('after close(), a process with calls in flight ends them with ABORTED and exits normally', async (t) => {
  const script = `
    const { PluginRegistry } = require('modelport')
    ;(async () => {
      const registry = await PluginRegistry.fromConfig({ providers: [{ name: 'bot', path: ${JSON.stringify(plugin('scripted'))}, config: { latency_ms: 60000 } }] })
      const provider = await registry.builder('bot').build()
      const calls = [1, 2, 3].map((n) => provider.chat([{ role: 'user', content: 'never answered ' + n }]).catch((e) => e.code))
      setTimeout(() => registry.close(), 50)
      console.log((await Promise.all(calls)).join(','))
    })()`
  // The answers are a minute away; the child is killed after 40 s (see `node`).
  const child = await node(script)
  t.is(child.status, 0, child.stderr)
  t.is(child.stdout.trim(), 'ABORTED,ABORTED,ABORTED')
})

test('a Wasm plugin logs through qmt_log at the level init_logging gave every instance', async (t) => {
  // The instance the load reads the plugin with is dropped: calls run on instances built later.
  const script = `
    const { PluginRegistry } = require('modelport')
    ;(async () => {
      const registry = await PluginRegistry.fromConfig({ providers: [{ name: 'echo', path: ${JSON.stringify(wasmProvider('echo_provider'))} }] })
      const provider = await registry.builder('echo').build()
      const a = await provider.chat([{ role: 'user', content: 'a' }])
      const c = await provider.chat([{ role: 'user', content: 'b' }, { role: 'user', content: 'c' }])
      console.log([a.text, c.text].join(','))
      await registry.close()
    })()`
  const info = await node(script, { MODELPORT_LOG: 'info' })
  t.is(info.stdout.trim(), 'a,c', info.stderr)
  t.regex(info.stderr, /\[echo\] \[echo_provider\] chat with 1 messages/)
  t.regex(info.stderr, /\[echo\] \[echo_provider\] chat with 2 messages/)
  const quiet = await node(script, { MODELPORT_LOG: 'warn' })
  t.is(quiet.stdout.trim(), 'a,c', quiet.stderr)
  t.notRegex(quiet.stderr, /echo_provider/)
})

test('plugin log records reach the host logger (MODELPORT_LOG)', async (t) => {
  const script = `
    const { PluginRegistry } = require('modelport')
    ;(async () => {
      const registry = await PluginRegistry.fromConfig({ providers: [{ name: 'p', path: ${JSON.stringify(fixture('panicky'))}, config: { panic_in: 'from_config' } }] })
      await registry.builder('p').build().catch((e) => console.log(e.code))
    })()`
  const child = await node(script, { MODELPORT_LOG: 'error' })
  t.is(child.stdout.trim(), 'PLUGIN_PANICKED')
  t.regex(child.stderr, /modelport::plugin.*plugin panicked: [\s\S]*fixture panic in from_config/)
})
