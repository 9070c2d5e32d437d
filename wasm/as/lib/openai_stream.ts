// OpenAI's streamed chat (Server-Sent Events of chat.completion.chunk objects) → QueryMT
// StreamChunk JSON, shared by the v2 (host-fed parser) and v1 (plugin-read stream) fixtures.
// SSE framing: `data:` lines make an event, a blank line ends it, `:` lines are comments, CRLF
// is accepted. Tool-call deltas are reassembled per index. Complete only at `data: [DONE]`.
import { JSON } from 'assemblyscript-json/assembly'

import { quote, str } from './io'
import { isValidJson } from './json_check'

class PendingCall {
  constructor(public index: i32, public id: string, public name: string, public args: string) {}
}

export class StreamState {
  line: Array<u8> = new Array<u8>()
  data: string | null = null
  calls: Array<PendingCall> = new Array<PendingCall>()
  finish: string = 'Unknown'
  done: bool = false
  /** StreamChunk JSON texts ready to hand out. */
  out: Array<string> = new Array<string>()
  /** Set when the stream is malformed or reports an error; the caller fails the call with it. */
  error: string | null = null
  /** The QueryMT error type of `error`. */
  errorKind: string = 'response_format_error'
}

function finishReason(reason: string): string {
  if (reason == 'stop') return 'Stop'
  if (reason == 'length') return 'Length'
  if (reason == 'tool_calls') return 'ToolCalls'
  if (reason == 'content_filter') return 'ContentFilter'
  return 'Other'
}

function completeCalls(state: StreamState): void {
  const calls = state.calls.sort((a: PendingCall, b: PendingCall): i32 => a.index - b.index)
  for (let i = 0; i < calls.length; i++) {
    const call = calls[i]
    state.out.push('{"tool_use_complete":{"index":' + call.index.toString() + ',"tool_call":{"id":' + quote(call.id) +
      ',"type":"function","function":{"name":' + quote(call.name) + ',"arguments":' + quote(call.args) + '}}}}')
  }
  state.calls = new Array<PendingCall>()
}

function findCall(state: StreamState, index: i32): PendingCall | null {
  for (let i = 0; i < state.calls.length; i++) if (state.calls[i].index == index) return state.calls[i]
  return null
}

function toolDeltas(state: StreamState, deltas: JSON.Arr): void {
  const items = deltas.valueOf()
  for (let i = 0; i < items.length; i++) {
    const delta = <JSON.Obj>items[i]
    const index = <i32>delta.getInteger('index')!.valueOf()
    const fn = delta.getObj('function')
    let call = findCall(state, index)
    if (call === null) {
      const id = str(delta, 'id')
      const name = str(fn, 'name')
      if (id === null || name === null) {
        state.error = 'tool call ' + index.toString() + ' streamed without its id and name'
        return
      }
      call = new PendingCall(index, id, name, '')
      state.calls.push(call)
      state.out.push('{"tool_use_start":{"index":' + index.toString() + ',"id":' + quote(id) + ',"name":' + quote(name) + '}}')
    }
    const args = str(fn, 'arguments')
    if (args !== null && args.length > 0) {
      call.args += args
      state.out.push('{"tool_use_input_delta":{"index":' + index.toString() + ',"partial_json":' + quote(args) + '}}')
    }
  }
}

function event(state: StreamState, data: string): void {
  if (state.done) return
  if (data.trim() == '[DONE]') {
    completeCalls(state)
    state.done = true
    state.out.push('{"done":{"finish_reason":"' + state.finish + '"}}')
    return
  }
  if (!isValidJson(data) || !data.trimStart().startsWith('{')) {
    state.error = 'invalid JSON in the stream: ' + data.slice(0, 120)
    return
  }
  const chunk = <JSON.Obj>JSON.parse(data)
  const error = chunk.getObj('error')
  if (error !== null) {
    const message = str(error, 'message')
    state.error = 'error in the stream: ' + (message === null ? 'the provider reported an error' : message)
    state.errorKind = 'provider_error'
    return
  }
  const choices = chunk.getArr('choices')
  if (choices !== null) {
    const list = choices.valueOf()
    for (let i = 0; i < list.length; i++) {
      const choice = <JSON.Obj>list[i]
      const delta = choice.getObj('delta')
      if (delta !== null) {
        const content = str(delta, 'content')
        if (content !== null && content.length > 0) state.out.push('{"text":' + quote(content) + '}')
        const calls = delta.getArr('tool_calls')
        if (calls !== null) toolDeltas(state, calls)
        if (state.error !== null) return
      }
      const reason = str(choice, 'finish_reason')
      if (reason !== null) {
        state.finish = finishReason(reason)
        completeCalls(state)
      }
    }
  }
  const usage = chunk.getObj('usage')
  if (usage !== null) {
    const input = usage.getInteger('prompt_tokens')
    const output = usage.getInteger('completion_tokens')
    state.out.push('{"usage":{"input_tokens":' + (input === null ? '0' : input.valueOf().toString()) +
      ',"output_tokens":' + (output === null ? '0' : output.valueOf().toString()) + '}}')
  }
}

function line(state: StreamState, text: string): void {
  if (text.length == 0) {
    const data = state.data
    state.data = null
    if (data !== null) event(state, data)
    return
  }
  if (text.startsWith(':')) return
  const colon = text.indexOf(':')
  const field = colon < 0 ? text : text.slice(0, colon)
  if (field != 'data') return
  let value = colon < 0 ? '' : text.slice(colon + 1)
  if (value.startsWith(' ')) value = value.slice(1)
  const data = state.data
  state.data = data === null ? value : data + '\n' + value
}

/** Feeds body bytes; complete lines are parsed, the rest waits for more. */
export function feed(state: StreamState, bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]
    if (b != 0x0a) {
      state.line.push(b)
      continue
    }
    const raw = new Uint8Array(state.line.length)
    for (let k = 0; k < state.line.length; k++) raw[k] = state.line[k]
    state.line = new Array<u8>()
    let text = String.UTF8.decode(raw.buffer)
    if (text.endsWith('\r')) text = text.slice(0, text.length - 1)
    line(state, text)
    if (state.error !== null) return
  }
}

/** The end of the body: an incomplete stream is an error, never a clean finish. */
export function finish(state: StreamState): void {
  if (state.line.length > 0) {
    const end = new Uint8Array(2)
    end[0] = 0x0a
    end[1] = 0x0a
    feed(state, end)
  }
  if (state.error === null && !state.done) state.error = 'the stream ended before [DONE]: the answer is incomplete'
}

/** Takes the chunks produced so far. */
export function take(state: StreamState): Array<string> {
  const out = state.out
  state.out = new Array<string>()
  return out
}
