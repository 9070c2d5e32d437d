// One loop of calls in a process of its own, for the footprint case: prints its memory before and
// after the loop (process.memoryUsage(), MiB, after a full GC and a pause) and its peak RSS as
// JSON. Its own process, so one loop's V8 heap growth does not hide the next one's.
//   node --expose-gc call-loop-memory.mjs <loop> <calls>
// Loops: `same` (callSync echo, one 11 B input), `fresh` (callSync echo, a new input string each
// call), `js` (the floor: a new string and a Buffer of it each time, in JS alone), `js-array`
// (a new string and a new Uint8Array copy of it each time, as the binding answers, in JS alone).
import { modelport, wasmPlugin } from './env.mjs'

function memory() {
  const usage = process.memoryUsage()
  return Object.fromEntries(Object.entries(usage).map(([key, bytes]) => [key, bytes / 2 ** 20]))
}

/** A full GC, then a pause for memory freed on other threads. */
function settle() {
  globalThis.gc?.()
  return new Promise((resolve) => setTimeout(resolve, 300))
}

const [loop, count] = process.argv.slice(2)
const calls = Number(count)
let call = (input) => Buffer.from(input)
if (loop === 'js-array')
  call = (input) => {
    const bytes = new Uint8Array(input.length)
    for (let i = 0; i < input.length; i++) bytes[i] = input.charCodeAt(i)
    return bytes
  }
let plugin
if (!loop.startsWith('js')) {
  plugin = await modelport().ExtismPlugin.load(wasmPlugin('echo'))
  call = (input) => plugin.callSync('echo', input)
}
const inputOf = loop === 'same' ? () => 'hello world' : (i) => `call ${i}`
for (let i = 0; i < 10_000; i++) call(inputOf(i))
await settle()
const start = memory()
let peak = start.rss
let failures = 0
for (let i = 0; i < calls; i++) {
  const input = inputOf(i)
  if (call(input).length !== input.length) failures++
  if (i % 100_000 === 0) peak = Math.max(peak, process.memoryUsage.rss() / 2 ** 20)
}
await settle()
const end = memory()
plugin?.close()
console.log(JSON.stringify({ start, end, peak, failures }))
