// A module declaring itself a tool executor: a Wasm plugin cannot be one (the sandbox runs no
// processes), and modelport refuses it at load.
import './abort'

import { output } from './lib/io'

export function manifest(): i32 {
  return output('{"name":"wasm-executor","type":"tool-executor","sdkVersion":{"minVersion":1}}')
}

export function init(): i32 {
  return 0
}
