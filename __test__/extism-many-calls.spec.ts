import test from 'ava'
import { ExtismPlugin } from 'modelport'

import { tempDir, wasm } from './helpers'

// Its own file (its own worker): this loop holds the event loop for seconds.
test('100,000 sequential callSync calls on the AssemblyScript echo plugin, zero failures', async (t) => {
  const plugin = await ExtismPlugin.load(wasm('echo'), { cacheDir: tempDir() })
  let failures = 0
  for (let i = 0; i < 100_000; i++) {
    const input = `message ${i}`
    if (Buffer.from(plugin.callSync('echo', input)).toString('utf8') !== input) failures++
  }
  t.is(failures, 0)
})
