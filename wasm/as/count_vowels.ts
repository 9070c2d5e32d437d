// Raw-API fixture built with the official AssemblyScript PDK: counts vowels, reads a config key
// and keeps a running total in an Extism var across calls.
import { Config, Host, Var } from '@extism/as-pdk'
import './abort'

function utf8(text: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(text))
}

export function count_vowels(): i32 {
  const text = Host.inputString()
  let count = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i)
    if ('aeiouAEIOU'.includes(c)) count += 1
  }
  const previous = Var.get('total')
  const total = (previous === null ? 0 : I32.parseInt(String.UTF8.decode(previous.buffer))) + count
  Var.set('total', utf8(total.toString()))
  const thing = Config.get('thing')
  const thingJson = thing === null ? 'null' : '"' + thing + '"'
  Host.output(utf8('{"count":' + count.toString() + ',"total":' + total.toString() + ',"thing":' + thingJson + '}'))
  return 0
}
