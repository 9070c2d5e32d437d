// Input/output helpers shared by the provider fixtures: JSON in, JSON out, QueryMT error payloads.
import { Host, Memory } from '@extism/as-pdk'
import { error_set } from '@extism/as-pdk/lib/env'
import { JSON } from 'assemblyscript-json/assembly'

export function inputJson(): JSON.Obj {
  return <JSON.Obj>JSON.parse(Host.inputString())
}

export function output(text: string): i32 {
  Host.output(Uint8Array.wrap(String.UTF8.encode(text)))
  return 0
}

/**
 * Fails the call the QueryMT way: return code 1 and `{"payload":{"type","message"}}` (QueryMT's
 * `PluginError`). A `response_format_error` carries the `raw_response` QueryMT requires.
 */
export function fail(type: string, message: string): i32 {
  let payload = '{"type":' + quote(type) + ',"message":' + quote(message)
  if (type == 'response_format_error') payload += ',"raw_response":""'
  return failWith(payload + '}')
}

/** Fails the call with a payload written elsewhere (the host's `plugin_error`, say). */
export function failWith(payload: string): i32 {
  error_set(Memory.allocateString('{"payload":' + payload + '}').offset)
  return 1
}

/**
 * Fails the call for a non-2xx answer as a QueryMT provider failure: its `kind` (which alone
 * decides a retry) from the status, the HTTP status, and the server's requested wait in QueryMT's
 * `retry_after_secs` plus modelport's more precise `retry_after_ms` (-1: none).
 */
export function failStatus(status: i64, body: string, retryAfterMs: i64): i32 {
  let kind = 'unknown_permanent'
  if (status == 429) kind = 'rate_limited'
  else if (status == 401 || status == 403) kind = 'authentication'
  else if (status == 400 || status == 404 || status == 422) kind = 'invalid_request'
  else if (status == 408 || status >= 500) kind = 'unknown_transient'
  let payload = '{"type":"provider_error","message":' + quote('HTTP ' + status.toString() + ': ' + body) +
    ',"kind":"' + kind + '","status_code":' + status.toString()
  if (retryAfterMs >= 0) {
    payload += ',"retry_after_secs":' + ((retryAfterMs + 999) / 1000).toString() + ',"retry_after_ms":' + retryAfterMs.toString()
  }
  return failWith(payload + '}')
}

/** The response a parse export receives: QueryMT wraps it twice, `{"resp":{"resp":{head,body}}}`. */
export function responseOf(input: JSON.Obj): JSON.Obj {
  return input.getObj('resp')!.getObj('resp')!
}

/** A JSON string literal. */
export function quote(text: string): string {
  let out = '"'
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c == 0x22) out += '\\"'
    else if (c == 0x5c) out += '\\\\'
    else if (c == 0x0a) out += '\\n'
    else if (c == 0x0d) out += '\\r'
    else if (c == 0x09) out += '\\t'
    else if (c < 0x20) out += '\\u' + c.toString(16).padStart(4, '0')
    else out += String.fromCharCode(c)
  }
  return out + '"'
}

export function str(obj: JSON.Obj | null, key: string): string | null {
  if (obj === null) return null
  const value = obj.getString(key)
  return value === null ? null : value.valueOf()
}

/** The bytes of a wire body (`[n, n, …]`) as text. */
export function bodyText(resp: JSON.Obj): string {
  const body = resp.getArr('body')
  if (body === null) return ''
  const values = body.valueOf()
  const bytes = new Uint8Array(values.length)
  for (let i = 0; i < values.length; i++) bytes[i] = <u8>(<JSON.Integer>values[i]).valueOf()
  return String.UTF8.decode(bytes.buffer)
}

/** A wire request `{"req":{"head":…,"body":[…]}}` for `method uri` with a JSON `body`. */
export function wireRequest(method: string, uri: string, apiKey: string | null, body: string | null): string {
  let headers = '"content-type":"application/json"'
  if (apiKey !== null && apiKey.length > 0) headers += ',"authorization":' + quote('Bearer ' + apiKey)
  let bytes = ''
  if (body !== null) {
    const encoded = Uint8Array.wrap(String.UTF8.encode(body))
    const parts = new Array<string>(encoded.length)
    for (let i = 0; i < encoded.length; i++) parts[i] = encoded[i].toString()
    bytes = parts.join(',')
  }
  return '{"req":{"head":{"method":' + quote(method) + ',"uri":' + quote(uri) + ',"headers":{' + headers +
    '},"version":"HTTP/1.1"},"body":[' + bytes + ']}}'
}
