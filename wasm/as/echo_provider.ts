// A QueryMT v1 provider that needs no network: `chat` answers with the last user message's text.
// The benchmarks measure the host's per-call overhead with it (parse the request, answer, return).
// It logs each chat through `qmt_log` when the host's `init_logging` level allows info, with
// `count_configs` answers how many configs its `from_config` accepted (derived providers' cost),
// and with `fetch` (a URL) answers that URL's body, fetched through Extism's standard
// `http_request` (what every PDK's `http::request` calls) under the provider's allow-list.
import './abort'

import { Host, Memory } from '@extism/as-pdk'
import { http_request, length } from '@extism/as-pdk/lib/env'

import { JSON } from 'assemblyscript-json/assembly'

import { inputJson, output, quote } from './lib/io'
import { textOf } from './lib/openai'

const SCHEMA =
  '{"type":"object","properties":{"model":{"type":"string"},"system":{"type":"array","items":{"type":"string"}},' +
  '"count_configs":{"type":"boolean"},"fetch":{"type":"string"}},"additionalProperties":false}'

/** How many configs `from_config` has accepted in this instance. */
let configs: i32 = 0

/** Accepts any config its schema allows, and counts it. */
export function from_config(): i32 {
  configs++
  return output(Host.inputString())
}

@external('extism:host/user', 'qmt_log')
declare function qmt_log(record: u64): void

/** The level the host asked for (QueryMT's `init_logging`: 0 off … 5 trace). */
let logLevel: i32 = 0

export function init_logging(): i32 {
  logLevel = I32.parseInt(Host.inputString())
  return 0
}

function log(level: i32, message: string): void {
  if (level > logLevel) return
  const record = Memory.allocateString(
    '{"level":' + level.toString() + ',"target":"echo_provider","message":' + quote(message) + '}',
  )
  qmt_log(record.offset)
  record.free()
}

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
  const input = inputJson()
  const cfg = input.getObj('cfg')
  // With `count_configs`, the answer is the number of configs this instance accepted.
  if (cfg !== null) {
    const count = cfg.getBool('count_configs')
    if (count !== null && count.valueOf()) {
      return output('{"text":"configs=' + configs.toString() + '","finish_reason":"Stop"}')
    }
    const url = cfg.getString('fetch')
    if (url !== null) {
      const request = Memory.allocateString('{"url":' + quote(url.valueOf()) + ',"method":"GET"}')
      const response = http_request(request.offset, 0)
      const body = response == 0 ? '' : new Memory(response, length(response)).toString()
      return output('{"text":' + quote(body) + ',"finish_reason":"Stop"}')
    }
  }
  const messages = input.getArr('messages')
  log(3, 'chat with ' + (messages === null ? 0 : messages.valueOf().length).toString() + ' messages')
  const text = lastText(messages)
  return output('{"text":' + quote(text) + ',"finish_reason":"Stop"}')
}
