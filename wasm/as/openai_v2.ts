// A QueryMT v2 Extism provider for OpenAI-compatible endpoints, written with the official
// AssemblyScript PDK: it builds requests and parses responses; the host performs the HTTP.
import './abort'
import { bodyText, fail, inputJson, output, str, wireRequest } from './lib/io'
import { baseUrl, chatBody, chatResponse, completeBody, completion, embedBody, embeddings, models, SCHEMA } from './lib/openai'

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

