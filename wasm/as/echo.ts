// Raw-API fixture built with the official AssemblyScript PDK: returns its input unchanged.
import { Host } from '@extism/as-pdk'
import './abort'

export function echo(): i32 {
  Host.output(Host.input())
  return 0
}
