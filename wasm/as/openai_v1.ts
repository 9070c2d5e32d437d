// A QueryMT v1 (legacy) Extism provider for OpenAI-compatible endpoints, written with the official
// AssemblyScript PDK: the plugin performs its HTTP itself, through the host's `qmt_http_request`
// (which enforces the allow-list; it never traps for HTTP problems: 403 denied, 500 transport).
import { Memory } from '@extism/as-pdk'
import { length } from '@extism/as-pdk/lib/env'
import { JSON } from 'assemblyscript-json/assembly'

import './abort'
import { bodyText, fail, failStatus, failWith, inputJson, output, str, wireRequest } from './lib/io'
import { baseUrl, chatBody, chatResponse, completeBody, completion, embedBody, embeddings, models, SCHEMA } from './lib/openai'
import { feed, finish, StreamState, take } from './lib/openai_stream'

@external('extism:host/user', 'qmt_http_request')
declare function qmt_http_request(request: u64): u64
@external('extism:host/user', 'qmt_http_stream_open')
declare function qmt_http_stream_open(request: u64): u64
@external('extism:host/user', 'qmt_http_stream_next')
declare function qmt_http_stream_next(stream: u64): u64
@external('extism:host/user', 'qmt_http_stream_close')
declare function qmt_http_stream_close(stream: u64): void
@external('extism:host/user', 'qmt_yield_chunk')
declare function qmt_yield_chunk(chunk: u64): void

/** Sends a wire request `{"req":…}` through the host; returns the response inside its `{"resp":…}`. */
function send(request: string): JSON.Obj {
  const offset = qmt_http_request(Memory.allocateString(request).offset)
  return (<JSON.Obj>JSON.parse(new Memory(offset, length(offset)).toString())).getObj('resp')!
}

/** The `retry-after-ms` header of a wire response head, or -1. */
function retryAfterOf(head: JSON.Obj | null): i64 {
  if (head === null) return -1
  const headers = head.getObj('headers')
  if (headers === null) return -1
  const value = str(headers, 'retry-after-ms')
  if (value === null) return -1
  return I64.parseInt(value)
}

/** The body of a 2xx response, or null after failing the call with a typed payload. */
function okBody(response: JSON.Obj): string | null {
  const head = response.getObj('head')!
  const status = head.getInteger('status')!.valueOf()
  const body = bodyText(response)
  if (status >= 200 && status < 300) return body
  failStatus(status, body, retryAfterOf(head))
  return null
}

/** The next piece of an open HTTP stream; empty at its end. Frees what it allocates: a long stream
 * must not fill the plugin's memory. */
function nextBytes(id: string): Uint8Array {
  const input = Memory.allocateString(id)
  const offset = qmt_http_stream_next(input.offset)
  input.free()
  const output = new Memory(offset, length(offset))
  const bytes = output.toUint8Array()
  output.free()
  return bytes
}

/** Yields the parsed chunks as QueryMT's `ExtismChatChunk` (`{"chunk":…,"usage":…}`). */
function yieldChunks(state: StreamState): void {
  const chunks = take(state)
  for (let i = 0; i < chunks.length; i++) {
    const usage = chunks[i].startsWith('{"usage":') ? chunks[i].slice(9, chunks[i].length - 1) : 'null'
    const chunk = Memory.allocateString('{"chunk":' + chunks[i] + ',"usage":' + usage + '}')
    qmt_yield_chunk(chunk.offset)
    chunk.free()
  }
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
  return parsed.length == 0 ? fail('response_format_error', 'chat response has no choices') : output(parsed)
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
  return output('true')
}

/** Streams a chat answer: reads the HTTP stream through the host, yields each chunk as it parses. */
export function chat_stream(): i32 {
  const input = inputJson()
  const cfg = input.getObj('cfg')!
  const request = wireRequest('POST', baseUrl(cfg) + '/chat/completions', str(cfg, 'api_key'), chatBody(input, true))
  const offset = qmt_http_stream_open(Memory.allocateString(request).offset)
  const opened = <JSON.Obj>JSON.parse(new Memory(offset, length(offset)).toString())
  const status = str(opened, 'status')
  if (status == 'cancelled') return fail('cancelled', 'the stream was cancelled')
  if (status != 'ok') {
    // QueryMT's StreamOpenResult::Error: the host classified the failure; pass its payload on.
    const pluginError = str(opened, 'plugin_error')
    if (pluginError === null) return fail('plugin_error', 'the stream did not open: ' + opened.stringify())
    return failWith((<JSON.Obj>JSON.parse(pluginError)).getObj('payload')!.stringify())
  }
  const id = opened.getInteger('stream_id')!.valueOf().toString()
  const state = new StreamState()
  let piece = nextBytes(id)
  while (piece.length > 0) {
    feed(state, piece)
    if (state.error !== null) break
    yieldChunks(state)
    piece = nextBytes(id)
  }
  qmt_http_stream_close(Memory.allocateString(id).offset)
  if (state.error === null) finish(state)
  if (state.error !== null) return fail(state.errorKind, state.error!)
  yieldChunks(state)
  return 0
}
