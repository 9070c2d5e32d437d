// A plugin making HTTP requests through Extism's standard host function (`extism:host/env`
// `http_request`, what every PDK's `http::request` calls), for the raw API's HTTP tests.
// Input: Extism's request JSON (`{"url","method","headers"}`), then optionally a newline and the
// body. Output: the status, a newline, the `content-type` the host reported, a newline, the body.
import './abort'

import { Host, Memory } from '@extism/as-pdk'
import { http_request, length } from '@extism/as-pdk/lib/env'
import { JSON } from 'assemblyscript-json/assembly'

@external('extism:host/env', 'http_status_code')
declare function http_status_code(): i32

@external('extism:host/env', 'http_headers')
declare function http_headers(): u64

function text(offset: u64): string {
  if (offset == 0) return ''
  return new Memory(offset, length(offset)).toString()
}

export function fetch(): i32 {
  const input = Host.inputString()
  const newline = input.indexOf('\n')
  const request = newline < 0 ? input : input.substring(0, newline)
  const body = newline < 0 ? '' : input.substring(newline + 1)
  const bodyOffset = body.length > 0 ? Memory.allocateString(body).offset : 0
  const response = http_request(Memory.allocateString(request).offset, bodyOffset)
  let contentType = ''
  const headers = text(http_headers())
  if (headers.length > 0) {
    const value = (<JSON.Obj>JSON.parse(headers)).getString('content-type')
    if (value !== null) contentType = value.valueOf()
  }
  Host.outputString(http_status_code().toString() + '\n' + contentType + '\n' + text(response))
  return 0
}
