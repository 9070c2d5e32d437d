// A QueryMT v2 Extism provider for OpenAI-compatible endpoints, written with the official
// AssemblyScript PDK: it builds requests and parses responses; the host performs the HTTP.
import './abort'
import { Host } from '@extism/as-pdk'
import { JSON } from 'assemblyscript-json/assembly'

import { bodyText, fail, inputJson, output, str, wireRequest } from './lib/io'
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
  return output(models(bodyText(inputJson().getObj('resp')!)))
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
  const text = bodyText(inputJson().getObj('resp')!)
  const parsed = chatResponse(text)
  if (parsed.length == 0) return fail('parse_error', 'chat response has no choices')
  return output(parsed)
}

export function embed_request(): i32 {
  const input = inputJson()
  const cfg = input.getObj('cfg')!
  return output(wireRequest('POST', baseUrl(cfg) + '/embeddings', str(cfg, 'api_key'), embedBody(input)))
}

export function parse_embed_response(): i32 {
  return output(embeddings(bodyText(inputJson().getObj('resp')!)))
}

export function complete_request(): i32 {
  const input = inputJson()
  const cfg = input.getObj('cfg')!
  return output(wireRequest('POST', baseUrl(cfg) + '/completions', str(cfg, 'api_key'), completeBody(input)))
}

export function parse_complete_response(): i32 {
  return output(completion(bodyText(inputJson().getObj('resp')!)))
}


// Stream parsers live in this instance, by id: the host pins one instance per stream.
const parsers = new Map<i64, StreamState>()
let nextParser: i64 = 0

function parserOf(id: i64): StreamState | null {
  return parsers.has(id) ? parsers.get(id) : null
}

/** Parsed chunks as QueryMT items: usage travels in the item's `usage` field. */
function items(state: StreamState): i32 {
  if (state.error !== null) return fail('parse_error', state.error!)
  const chunks = take(state)
  const out = new Array<string>(chunks.length)
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i]
    out[i] = chunk.startsWith('{"usage":')
      ? '{"chunk":null,"usage":' + chunk.slice(9, chunk.length - 1) + '}'
      : '{"chunk":' + chunk + ',"usage":null}'
  }
  return output('[' + out.join(',') + ']')
}

export function chat_stream_parser_start(): i32 {
  nextParser++
  parsers.set(nextParser, new StreamState())
  return output(nextParser.toString())
}

export function chat_stream_parser_parse(): i32 {
  const input = inputJson()
  const state = parserOf(input.getInteger('parser_id')!.valueOf())
  if (state === null) return fail('invalid_request', 'no such stream parser')
  const values = input.getArr('chunk')!.valueOf()
  const bytes = new Uint8Array(values.length)
  for (let i = 0; i < values.length; i++) bytes[i] = <u8>(<JSON.Integer>values[i]).valueOf()
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
