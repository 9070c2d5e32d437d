// A QueryMT v1 (legacy) Extism provider for OpenAI-compatible endpoints, written with the official
// AssemblyScript PDK: the plugin performs its HTTP itself, through the host's `qmt_http_request`
// (which enforces the allow-list; it never traps for HTTP problems: 403 denied, 500 transport).
import { Memory } from '@extism/as-pdk'
import { length } from '@extism/as-pdk/lib/env'
import { JSON } from 'assemblyscript-json/assembly'

import './abort'
import { bodyText, fail, inputJson, output, str, wireRequest } from './lib/io'
import { baseUrl, chatBody, chatResponse, completeBody, completion, embedBody, embeddings, models, SCHEMA } from './lib/openai'

@external('extism:host/user', 'qmt_http_request')
declare function qmt_http_request(request: u64): u64

/** Sends a wire request through the host; returns the parsed wire response. */
function send(requestJson: string): JSON.Obj {
  // wireRequest gives `{"req":{…}}`; the host function takes the request itself.
  const request = (<JSON.Obj>JSON.parse(requestJson)).getObj('req')!.stringify()
  const offset = qmt_http_request(Memory.allocateString(request).offset)
  return <JSON.Obj>JSON.parse(new Memory(offset, length(offset)).toString())
}

/** The body of a 2xx response, or null after failing the call with a typed payload. */
function okBody(response: JSON.Obj): string | null {
  const status = response.getObj('head')!.getInteger('status')!.valueOf()
  const body = bodyText(response)
  if (status >= 200 && status < 300) return body
  let kind = 'provider_error'
  if (status == 401 || status == 403) kind = 'auth_error'
  if (status == 429) kind = 'rate_limited'
  if (status == 400 || status == 404) kind = 'invalid_request'
  fail(kind, 'HTTP ' + status.toString() + ': ' + body)
  return null
}

export function name(): i32 {
  return output('openai-wasm-v1')
}

export function api_key_name(): i32 {
  return output('OPENAI_API_KEY')
}

export function config_schema(): i32 {
  return output(SCHEMA)
}

export function list_models(): i32 {
  const cfg = inputJson()
  const body = okBody(send(wireRequest('GET', baseUrl(cfg) + '/models', str(cfg, 'api_key'), null)))
  return body === null ? 1 : output(models(body))
}

export function chat(): i32 {
  const input = inputJson()
  const cfg = input.getObj('cfg')!
  const body = okBody(send(wireRequest('POST', baseUrl(cfg) + '/chat/completions', str(cfg, 'api_key'), chatBody(input, false))))
  if (body === null) return 1
  const parsed = chatResponse(body)
  return parsed.length == 0 ? fail('parse_error', 'chat response has no choices') : output(parsed)
}

export function embed(): i32 {
  const input = inputJson()
  const cfg = input.getObj('cfg')!
  const body = okBody(send(wireRequest('POST', baseUrl(cfg) + '/embeddings', str(cfg, 'api_key'), embedBody(input))))
  return body === null ? 1 : output(embeddings(body))
}

export function complete(): i32 {
  const input = inputJson()
  const cfg = input.getObj('cfg')!
  const body = okBody(send(wireRequest('POST', baseUrl(cfg) + '/completions', str(cfg, 'api_key'), completeBody(input))))
  return body === null ? 1 : output(completion(body))
}

export function supports_streaming(): i32 {
  return output('false')
}
