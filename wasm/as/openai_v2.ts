// A QueryMT v2 Extism provider for OpenAI-compatible endpoints, written with the official
// AssemblyScript PDK: it builds requests and parses responses; the host performs the HTTP.
import './abort'
import { Host } from '@extism/as-pdk'

import { bodyText, responseOf, fail, inputJson, output, str, wireRequest } from './lib/io'
import { baseUrl, chatBody, chatResponse, completeBody, completion, embedBody, embeddings, models, SCHEMA } from './lib/openai'
import { feed, finish, StreamState, take } from './lib/openai_stream'

export function name(): i32 {
  return output('openai-wasm')
}

export function base_url(): i32 {
  return output('https://api.openai.com/v1')
}

export function api_key_name(): i32 {
  return output('OPENAI_API_KEY')
}

export function config_schema(): i32 {
  return output(SCHEMA)
}

export function init_logging(): i32 {
  return 0
}

export function from_config(): i32 {
  const cfg = inputJson()
  if (str(cfg, 'model') === null) return fail('invalid_request', 'no model set: give `model` in the config or builder.model()')
  return output(cfg.stringify())
}

function request(method: string, path: string, body: string | null): i32 {
  const input = inputJson()
  const cfg = input.getObj('cfg')!
  return output(wireRequest(method, baseUrl(cfg) + path, str(cfg, 'api_key'), body))
}

export function list_models_request(): i32 {
  return request('GET', '/models', null)
}

export function parse_list_models_response(): i32 {
  return output(models(bodyText(responseOf(inputJson()))))
}

export function chat_request(): i32 {
  const input = inputJson()
  const cfg = input.getObj('cfg')!
  return output(wireRequest('POST', baseUrl(cfg) + '/chat/completions', str(cfg, 'api_key'), chatBody(input, false)))
}

export function chat_stream_request(): i32 {
  const input = inputJson()
  const cfg = input.getObj('cfg')!
  return output(wireRequest('POST', baseUrl(cfg) + '/chat/completions', str(cfg, 'api_key'), chatBody(input, true)))
}

export function parse_chat_response(): i32 {
  const text = bodyText(responseOf(inputJson()))
  const parsed = chatResponse(text)
  if (parsed.length == 0) return fail('response_format_error', 'chat response has no choices')
  return output(parsed)
}

export function embed_request(): i32 {
  const input = inputJson()
  const cfg = input.getObj('cfg')!
  return output(wireRequest('POST', baseUrl(cfg) + '/embeddings', str(cfg, 'api_key'), embedBody(input)))
}

export function parse_embed_response(): i32 {
  return output(embeddings(bodyText(responseOf(inputJson()))))
}

export function complete_request(): i32 {
  const input = inputJson()
  const cfg = input.getObj('cfg')!
  return output(wireRequest('POST', baseUrl(cfg) + '/completions', str(cfg, 'api_key'), completeBody(input)))
}

export function parse_complete_response(): i32 {
  return output(completion(bodyText(responseOf(inputJson()))))
}


// Stream parsers live in this instance, by id: the host pins one instance per stream.
const parsers = new Map<i64, StreamState>()
let nextParser: i64 = 0

function parserOf(id: i64): StreamState | null {
  return parsers.has(id) ? parsers.get(id) : null
}

/** Parsed chunks as QueryMT items (`ExtismChatChunk`): a usage chunk's numbers also in `usage`. */
function items(state: StreamState): i32 {
  if (state.error !== null) return fail(state.errorKind, state.error!)
  const chunks = take(state)
  const out = new Array<string>(chunks.length)
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i]
    out[i] = chunk.startsWith('{"usage":')
      ? '{"chunk":' + chunk + ',"usage":' + chunk.slice(9, chunk.length - 1) + '}'
      : '{"chunk":' + chunk + ',"usage":null}'
  }
  return output('[' + out.join(',') + ']')
}

export function chat_stream_parser_start(): i32 {
  nextParser++
  parsers.set(nextParser, new StreamState())
  return output(nextParser.toString())
}

/** Where `key` (a quoted JSON key followed by `:`) ends in `input`, or -1. */
function after(input: Uint8Array, key: string): i32 {
  const pattern = Uint8Array.wrap(String.UTF8.encode('"' + key + '":'))
  for (let i = 0; i + pattern.length <= input.length; i++) {
    let match = true
    for (let k = 0; k < pattern.length && match; k++) match = input[i + k] == pattern[k]
    if (match) return i + pattern.length
  }
  return -1
}

/** The unsigned integers from `at` on, as bytes, up to the closing `]` (or one number). */
function numbers(input: Uint8Array, at: i32, list: bool): Array<i64> {
  const out = new Array<i64>()
  let value: i64 = -1
  for (let i = at; i < input.length; i++) {
    const c = input[i]
    if (c >= 0x30 && c <= 0x39) {
      value = (value < 0 ? 0 : value * 10) + <i64>(c - 0x30)
    } else {
      if (value >= 0) out.push(value)
      value = -1
      if (c == 0x5d || (!list && out.length > 0)) break
    }
  }
  if (value >= 0) out.push(value)
  return out
}

/**
 * `{"parser_id":n,"chunk":[bytes]}` read by scanning instead of a JSON tree: the host calls this
 * once per streamed line, so it is the stream's hot path.
 */
export function chat_stream_parser_parse(): i32 {
  const input = Host.input()
  const idAt = after(input, 'parser_id')
  const chunkAt = after(input, 'chunk')
  if (idAt < 0 || chunkAt < 0) return fail('invalid_request', 'expected {"parser_id","chunk"}')
  const ids = numbers(input, idAt, false)
  const state = ids.length == 1 ? parserOf(ids[0]) : null
  if (state === null) return fail('invalid_request', 'no such stream parser')
  const values = numbers(input, chunkAt, true)
  const bytes = new Uint8Array(values.length)
  for (let i = 0; i < values.length; i++) bytes[i] = <u8>values[i]
  feed(state, bytes)
  return items(state)
}

export function chat_stream_parser_finish(): i32 {
  const state = parserOf(I64.parseInt(Host.inputString()))
  if (state === null) return fail('invalid_request', 'no such stream parser')
  finish(state)
  return items(state)
}

export function chat_stream_parser_close(): i32 {
  parsers.delete(I64.parseInt(Host.inputString()))
  return 0
}
