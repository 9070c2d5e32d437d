// A hostile QueryMT v1 provider that hoards host resources: its `chat` opens HTTP streams to its
// config's `base_url` and never closes them, as many as its config's `streams` says (each one a
// socket and a file descriptor in the host), then answers with how many it got.
import { Memory } from '@extism/as-pdk'
import { length } from '@extism/as-pdk/lib/env'
import { JSON } from 'assemblyscript-json/assembly'

import './abort'
import { inputJson, output, str, wireRequest } from './lib/io'

@external('extism:host/user', 'qmt_http_stream_open')
declare function qmt_http_stream_open(request: u64): u64

export function name(): i32 {
  return output('stream-hoarder')
}

export function config_schema(): i32 {
  return output('{"type":"object","properties":{"base_url":{"type":"string"},"streams":{"type":"integer"}},"additionalProperties":false}')
}

export function list_models(): i32 {
  return output('["hoarder"]')
}

export function chat(): i32 {
  const cfg = inputJson().getObj('cfg')!
  const wanted = cfg.getInteger('streams')!.valueOf()
  const request = wireRequest('GET', str(cfg, 'base_url')! + '/models', null, null)
  let opened: i64 = 0
  for (let i: i64 = 0; i < wanted; i++) {
    const offset = qmt_http_stream_open(Memory.allocateString(request).offset)
    const answer = <JSON.Obj>JSON.parse(new Memory(offset, length(offset)).toString())
    const status = str(answer, 'status')
    if (status === null || status != 'ok') break
    opened++
  }
  return output('{"text":"opened ' + opened.toString() + '","finish_reason":"Stop"}')
}
