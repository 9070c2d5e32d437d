// A v2 Wasm provider handed a response body too large for its memory cap, run as a child process
// so that its peak memory is the host's alone. Prints the error code and how much the process's
// peak RSS grew during the call.
// Usage: node large-response.mjs <base_url> <plugin path> <cache dir> <timeout_ms>
import { PluginRegistry } from '../../dist/index.js'

const [url, path, cacheDir, timeoutMs] = process.argv.slice(2)
const registry = await PluginRegistry.fromConfig({
  providers: [
    {
      name: 'p',
      path,
      config: { base_url: url, model: 'mock-gpt-1' },
      max_response_bytes: 2 ** 30,
      timeout_ms: Number(timeoutMs),
    },
  ],
  cache_dir: cacheDir,
})
const provider = await registry.builder('p').build()
// Warm up: the instance, the HTTP client and the event loop's own buffers.
await provider.chat([{ role: 'user', content: 'small' }])
const peak = () => process.resourceUsage().maxRSS * 1024
const before = peak()
const code = await provider.chat([{ role: 'user', content: 'large' }]).then(
  () => 'OK',
  (error) => error.code,
)
const grown = peak() - before
const after = (await provider.chat([{ role: 'user', content: 'small' }])).text
process.stdout.write(`${JSON.stringify({ code, grown, after })}\n`)
await registry.close()
