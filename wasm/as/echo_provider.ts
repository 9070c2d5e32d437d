// A QueryMT v1 provider that needs no network: `chat` answers with the last user message's text.
// The benchmarks measure the host's per-call overhead with it (parse the request, answer, return).
import './abort'

import { JSON } from 'assemblyscript-json/assembly'

import { inputJson, output, quote } from './lib/io'
import { textOf } from './lib/openai'

const SCHEMA = '{"type":"object","properties":{"model":{"type":"string"}},"additionalProperties":false}'

export function name(): i32 {
  return output('echo-wasm')
}

export function config_schema(): i32 {
  return output(SCHEMA)
}

export function list_models(): i32 {
  return output('["echo"]')
}

export function supports_streaming(): i32 {
  return output('false')
}

/** The text of the last message. */
function lastText(messages: JSON.Arr | null): string {
  if (messages === null || messages.valueOf().length == 0) return ''
  const list = messages.valueOf()
  return textOf((<JSON.Obj>list[list.length - 1]).getArr('content'))
}

export function chat(): i32 {
  const text = lastText(inputJson().getArr('messages'))
  return output('{"text":' + quote(text) + ',"finish_reason":"Stop"}')
}
