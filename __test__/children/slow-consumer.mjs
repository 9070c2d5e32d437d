// A slow stream reader, run as a child process so its memory is the host's alone: it reads ten
// events, stops reading until a line arrives on stdin (reporting its RSS before and after), then
// reads the rest.
// Usage: node slow-consumer.mjs <base_url> <plugin path> <cache dir>
import { once } from 'node:events'
import { createInterface } from 'node:readline'

import { PluginRegistry } from '../../dist/index.js'

const [url, path, cacheDir] = process.argv.slice(2)
// The tests' time scale (helpers.ts `TIME_SCALE`): the whole exchange's bound (600 s by default)
// stretches with it, as reading 104 MB takes minutes under emulation.
const timeScale = Number(process.env.MODELPORT_TEST_TIME_SCALE ?? 1)
const registry = await PluginRegistry.fromConfig({
  // The answer is larger than the default 64 MiB response cap.
  providers: [
    {
      name: 'p',
      path,
      config: { base_url: url, model: 'mock-gpt-1' },
      max_response_bytes: 2 ** 30,
      request_timeout_ms: 600_000 * timeScale,
    },
  ],
  cache_dir: cacheDir,
})
const provider = await registry.builder('p').build()
const rss = () => process.memoryUsage().rss
const report = (fields) => process.stdout.write(`${JSON.stringify(fields)}\n`)

let count = 0
let characters = 0
for await (const event of provider.chatStream([{ role: 'user', content: 'a long answer' }])) {
  if (event.type !== 'text') continue
  count++
  characters += event.text.length
  if (count === 10) {
    const input = createInterface({ input: process.stdin })
    const resume = once(input, 'line')
    report({ phase: 'paused', rss: rss() })
    await resume
    input.close()
    report({ phase: 'resumed', rss: rss() })
  }
}
report({ phase: 'done', count, characters, rss: rss() })
await registry.close()
