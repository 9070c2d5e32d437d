// The embedded OpenAI-compatible server in a process of its own, so a test can kill it (SIGKILL)
// the way an upstream dies. Prints its base URL on the first line of stdout, then one line
// `requests <n>` per chat request it receives.
// Usage: node upstream.mjs barrier <n>   every streamed answer waits after its first event until
//                                        n chat requests have arrived (all of them in flight at once)
//        node upstream.mjs hold          every streamed answer stops after its first text event
import { startMockOpenAI } from '../../dist/src/testing/index.js'

const [mode, count] = process.argv.slice(2)
let arrived = 0
let releaseAll
const allArrived = new Promise((resolve) => (releaseAll = resolve))
const server = await startMockOpenAI({
  reply: () => 'one two three four',
  beforeEvent: (index) => {
    if (mode === 'barrier' && index === 1) return allArrived
    if (mode === 'hold' && index === 2) return new Promise(() => {})
    return undefined
  },
})
setInterval(() => {
  const chats = server.requests.filter((r) => r.path.endsWith('/chat/completions')).length
  if (chats === arrived) return
  arrived = chats
  process.stdout.write(`requests ${arrived}\n`)
  if (mode === 'barrier' && arrived >= Number(count)) releaseAll()
}, 20)
process.stdout.write(`${server.url}\n`)
