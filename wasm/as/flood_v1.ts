// A hostile QueryMT v1 provider that needs no network and answers in bulk: `chat_stream` yields as
// many one-letter chunks as the last message's number says, and `chat` answers with a text that
// many bytes long (past the memory cap, an out-of-memory failure inside the plugin).
import { Memory } from '@extism/as-pdk'
import './abort'

import { JSON } from 'assemblyscript-json/assembly'

import { inputJson, output } from './lib/io'
import { textOf } from './lib/openai'

@external('extism:host/user', 'qmt_yield_chunk')
declare function qmt_yield_chunk(chunk: u64): void

export function name(): i32 {
  return output('flood')
}

export function config_schema(): i32 {
  return output('{"type":"object","properties":{"model":{"type":"string"}},"additionalProperties":false}')
}

export function list_models(): i32 {
  return output('["flood"]')
}

export function supports_streaming(): i32 {
  return output('true')
}

/** The number the last message holds. */
function count(): i32 {
  const messages = inputJson().getArr('messages')!.valueOf()
  return I32.parseInt(textOf((<JSON.Obj>messages[messages.length - 1]).getArr('content')))
}

export function chat(): i32 {
  const n = count()
  return output('{"text":"' + 'x'.repeat(n) + '","finish_reason":"Stop"}')
}

export function chat_stream(): i32 {
  const n = count()
  const chunk = Memory.allocateString('{"chunk":{"text":"x"},"usage":null}')
  for (let i = 0; i < n; i++) qmt_yield_chunk(chunk.offset)
  chunk.free()
  const done = Memory.allocateString('{"chunk":{"done":{"finish_reason":"Stop"}},"usage":null}')
  qmt_yield_chunk(done.offset)
  done.free()
  return 0
}
