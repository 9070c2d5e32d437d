// A TypeScript provider's calls that wait with nothing else keeping Node alive: a retry after a
// retryable failure (the core's backoff), and a call that never settles until its timeout. Prints
// one JSON line of what each call ended with. With "worker", the same runs in a worker thread.
// Usage: node ts-provider-waits.mjs <main|worker>
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { PluginRegistry, ModelportError } from '../../dist/index.js'

const place = isMainThread ? process.argv[2] : workerData

function providerExport(name, generate) {
  const plugin = {
    name,
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
    generate,
  }
  return { manifest: { name, type: 'provider', sdkVersion: { minVersion: 1 } }, createPlugin: () => plugin }
}

async function run() {
  const registry = await PluginRegistry.fromConfig({ providers: [] })
  let attempts = 0
  await registry.register(
    providerExport('flaky', async () => {
      attempts += 1
      if (attempts === 1)
        throw new ModelportError({ code: 'RATE_LIMITED', message: 'later', retryable: true })
      return { text: `answered on attempt ${attempts}`, finishReason: 'stop' }
    }),
  )
  await registry.register(providerExport('silent', () => new Promise(() => {})))
  const messages = [{ role: 'user', content: 'hi' }]
  const flaky = await registry.builder('flaky').build()
  const silent = await registry.builder('silent').build()
  const retried = (await flaky.chat(messages)).text
  const timedOut = await silent.chat(messages, { timeoutMs: 300, maxRetries: 0 }).then(
    () => 'answered',
    (error) => error.code,
  )
  await registry.close()
  return { retried, timedOut }
}

if (place === 'worker' && isMainThread) {
  const worker = new Worker(new URL(import.meta.url), { workerData: 'worker' })
  worker.on('message', (result) => console.log(JSON.stringify({ ...result, place })))
  worker.on('error', (error) => {
    console.error(error)
    process.exitCode = 1
  })
} else if (isMainThread) {
  console.log(JSON.stringify({ ...(await run()), place }))
} else {
  parentPort.postMessage(await run())
}
