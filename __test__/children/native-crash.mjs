// A process that loads the panicky native fixture, shows that Wasm traps (modelport's and V8's)
// are still ordinary errors around modelport's crash reporter, then lets the fixture
// crash the process the way its config says (`abort` or `segfault`) during a chat.
// Usage: node native-crash.mjs <fixture path> <hostile.wat path> <abort|segfault> <cache dir>
import { ExtismPlugin, PluginRegistry } from '../../dist/index.js'

const [fixture, hostileWat, crash, cacheDir] = process.argv.slice(2)
const say = (line) => process.stdout.write(`${line}\n`)

const trap = async (wasm) => {
  try {
    await wasm.call('out_of_bounds')
  } catch (error) {
    say(`wasm trap: ${error.code}`)
  }
}
// Faults in modelport's Wasm sandbox are traps, handled, whether the sandbox's signal handlers
// came before the crash reporter (installed by the first native load) or after it.
const before = await ExtismPlugin.load(hostileWat, { cacheDir })
await trap(before)
const config = { providers: [{ name: 'crasher', path: fixture, config: { panic_in: crash } }] }
const registry = await PluginRegistry.fromConfig(config)
await registry.loadAll()
// The same plugin loaded again by another registry: the report names it once.
await (await PluginRegistry.fromConfig(config)).loadAll()
await trap(before)
await trap(await ExtismPlugin.load(hostileWat, { cacheDir }))
// A fault in V8's own WebAssembly (an out-of-bounds load): a RangeError, handled by V8.
// (module (memory 1) (func (export "f") (result i32) (i32.load (i32.const 65536))))
const bytes = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 127, 3, 2, 1, 0, 5, 3, 1, 0, 1, 7, 5, 1, 1, 102, 0, 0, 10,
  11, 1, 9, 0, 65, 128, 128, 4, 40, 2, 0, 11,
])
const { instance } = await WebAssembly.instantiate(bytes)
try {
  instance.exports.f()
} catch (error) {
  say(`v8 wasm trap: ${error.constructor.name}`)
}

say('chatting')
const provider = await registry.builder('crasher').build()
await provider.chat([{ role: 'user', content: 'crash' }])
say('survived')
