// A plugin that calls host functions the way Extism PDK plugins do (`extism:host/user`
// imports), for the raw API's host-function tests and benchmark: memory offsets in and out, plain
// numbers of every Wasm type, vars a host function sets, and errors a host function reports.
import './abort'

import { Host, LogLevel, Memory, Var } from '@extism/as-pdk'
import { length } from '@extism/as-pdk/lib/env'

@external('extism:host/user', 'transform')
declare function transform(text: u64): u64

@external('extism:host/user', 'add_i32')
declare function add_i32(a: i32, b: i32): i32

@external('extism:host/user', 'add_i64')
declare function add_i64(a: i64, b: i64): i64

@external('extism:host/user', 'halve')
declare function halve(x: f64): f64

@external('extism:host/user', 'note')
declare function note(text: u64): void

function memoryAt(offset: u64): Memory {
  return new Memory(offset, length(offset))
}

/** The input through the host's `transform`, as the output. */
export function transform_input(): i32 {
  const input = Memory.allocateBytes(Host.input())
  const answer = transform(input.offset)
  if (answer == 0) {
    Host.outputString('(no answer)')
    return 0
  }
  Host.outputMemory(memoryAt(answer))
  return 0
}

/** Numbers through the host: `add_i32(20, 22)`, `add_i64(2^40, 1)`, `halve(5)`. */
export function numbers(): i32 {
  const a = add_i32(20, 22)
  const b = add_i64(1 << 40, 1)
  const c = halve(5.0)
  Host.outputString(a.toString() + ' ' + b.toString() + ' ' + c.toString())
  return 0
}

/** Tells the host the input (`note`), then answers the var `from_host` the host may have set. */
export function note_then_read_var(): i32 {
  note(Memory.allocateBytes(Host.input()).offset)
  const value = Var.getString('from_host')
  Host.outputString(value === null ? '(unset)' : value)
  return 0
}

/** Sets the var `from_plugin` to the input, then tells the host (`note`). */
export function set_var_then_note(): i32 {
  Var.set('from_plugin', Host.input())
  note(Memory.allocateString('var set').offset)
  Host.outputString('done')
  return 0
}

/** Logs the input once at each level the PDK has (`Host.log`: Extism's `log_*` functions). */
export function log_levels(): i32 {
  const message = Host.inputString()
  Host.log(LogLevel.Debug, 'debug: ' + message)
  Host.log(LogLevel.Info, 'info: ' + message)
  Host.log(LogLevel.Warn, 'warn: ' + message)
  Host.log(LogLevel.Error, 'error: ' + message)
  Host.outputString('logged')
  return 0
}
