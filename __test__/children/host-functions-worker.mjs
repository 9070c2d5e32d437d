// Runs in a Node worker thread: loads the host-functions fixture with host functions that read
// and store plugin memory, calls it with call() (the plugin's own thread) and callSync() (this
// thread), and posts what came back (or the error) to the parent.
import { parentPort, workerData } from 'node:worker_threads'

import { ExtismPlugin } from '../../dist/index.js'

const { fixture, cacheDir } = workerData
const functions = {
  'extism:host/user': {
    transform: (ctx, offset) =>
      ctx.store(`${ctx.read(offset).text().toUpperCase()} (${ctx.length(offset)} bytes)`),
    add_i32: (_ctx, a, b) => a + b,
    add_i64: (_ctx, a, b) => a + b,
    halve: (_ctx, x) => x / 2,
    note: () => {},
  },
}
const text = (bytes) => Buffer.from(bytes).toString('utf8')
try {
  const plugin = await ExtismPlugin.load(fixture, { cacheDir, functions })
  const viaCall = text(await plugin.call('transform_input', 'from a worker'))
  const viaCallSync = text(plugin.callSync('transform_input', 'inline'))
  plugin.close()
  parentPort.postMessage({ viaCall, viaCallSync })
} catch (error) {
  parentPort.postMessage({ error: { code: error.code, message: error.message } })
}
