// A `ProviderAdapterPlugin` as the core sees a provider: one attempt at a time, in the core's
// JSON shapes (the SDK's `ChatInput` in, `ChatResponse` / `StreamChunk`s out). The core keeps the
// retries, timeouts, abort and stream handling; an attempt it drops is aborted here through the
// plugin's `ctx.abortSignal`.
import { ModelportError } from '../errors'
import type { ChatStreamEvent, FinishReason, Message, Part, ToolCall, ToolDefinition, Usage } from '../types'
import type { ModelRequest, ModelResponse, PluginContext, ProviderAdapterPlugin } from './types'

/** The core's chat input (`modelport_plugin::wire::ChatInput`). */
interface WireChatInput {
  messages: WireMessage[]
  tools?: ToolDefinition[] | null
  params?: Record<string, unknown>
}

interface WireMessage {
  role: 'User' | 'Assistant'
  content: WirePart[]
}

type WirePart =
  | { type: 'text'; text: string }
  | { type: 'image'; mime_type: string; data: number[] }
  | { type: 'image_url'; url: string }
  | { type: 'pdf'; data: number[] }
  | { type: 'audio'; mime_type: string; data: number[] }
  | { type: 'thinking'; text: string; signature?: string | null }
  | { type: 'tool_use'; id: string; name: string; arguments: unknown }
  | { type: 'tool_result'; id: string; name?: string | null; is_error?: boolean; content: WirePart[] }

const FINISH: Record<FinishReason, string> = {
  stop: 'Stop',
  length: 'Length',
  contentFilter: 'ContentFilter',
  toolCalls: 'ToolCalls',
  error: 'Error',
  other: 'Other',
  unknown: 'Unknown',
}

/** What a rejected attempt carries to the core: the error as JSON (code kept if it is a ModelportError). */
function wireError(error: unknown): Error {
  const failure =
    error instanceof ModelportError
      ? { code: error.code, message: error.message, retryable: error.retryable, status: error.status }
      : { message: error instanceof Error ? error.message : String(error) }
  return new Error(JSON.stringify(failure))
}

function unsupported(setting: string): ModelportError {
  return new ModelportError({
    code: 'UNSUPPORTED',
    message: `a TypeScript provider plugin cannot take ${setting} per call (seed 004's ModelRequest has no such field)`,
  })
}

const base64 = (data: number[]) => Buffer.from(data).toString('base64')

function partOf(part: WirePart): Part | undefined {
  switch (part.type) {
    case 'text':
      return { type: 'text', text: part.text }
    case 'image':
      return { type: 'image', mimeType: part.mime_type, data: base64(part.data) }
    case 'image_url':
      return { type: 'imageUrl', url: part.url }
    case 'pdf':
      return { type: 'pdf', data: base64(part.data) }
    case 'audio':
      return { type: 'audio', mimeType: part.mime_type, data: base64(part.data) }
    case 'thinking':
      return part.signature
        ? { type: 'thinking', text: part.text, signature: part.signature }
        : { type: 'thinking', text: part.text }
    default:
      return undefined
  }
}

/** Text alone as a string, anything else as parts. */
function contentOf(parts: Part[]): string | Part[] {
  return parts.every((p) => p.type === 'text')
    ? parts.map((p) => (p as { text: string }).text).join('')
    : parts
}

/** The core's conversation in the facade's message shapes (tool results as `tool` messages). */
function messagesOf(input: WireChatInput): Message[] {
  const messages: Message[] = []
  const system = input.params?.['system']
  for (const prompt of Array.isArray(system) ? system : [])
    messages.push({ role: 'system', content: String(prompt) })
  for (const message of input.messages) {
    if (message.role === 'Assistant') {
      const toolCalls: ToolCall[] = []
      const parts: Part[] = []
      for (const part of message.content) {
        if (part.type === 'tool_use')
          toolCalls.push({ id: part.id, name: part.name, arguments: JSON.stringify(part.arguments) })
        else {
          const converted = partOf(part)
          if (converted) parts.push(converted)
        }
      }
      messages.push({
        role: 'assistant',
        content: contentOf(parts),
        ...(toolCalls.length > 0 && { toolCalls }),
      })
      continue
    }
    const parts: Part[] = []
    for (const part of message.content) {
      if (part.type === 'tool_result') {
        const content = part.content.map(partOf).filter((p): p is Part => p !== undefined)
        messages.push({
          role: 'tool',
          toolCallId: part.id,
          ...(part.name != null && { name: part.name }),
          content: contentOf(content),
          ...(part.is_error && { isError: true }),
        })
      } else {
        const converted = partOf(part)
        if (converted) parts.push(converted)
      }
    }
    if (parts.length > 0) messages.push({ role: 'user', content: contentOf(parts) })
  }
  return messages
}

/** The settings seed 004's `ModelRequest` has a field for (any other is `UNSUPPORTED`), as the
 * JSON Schema the registry reports for a TypeScript provider (`configSchema(name)`). */
export const TS_PROVIDER_SCHEMA = {
  type: 'object',
  properties: {
    system: { type: 'array', items: { type: 'string' } },
    max_output_tokens: { type: 'integer', minimum: 1 },
    temperature: { type: 'number' },
    response_format: { type: 'object' },
  },
}
const TAKEN = new Set(Object.keys(TS_PROVIDER_SCHEMA.properties))

function requestOf(input: WireChatInput): ModelRequest {
  const params = input.params ?? {}
  for (const key of Object.keys(params)) if (!TAKEN.has(key)) throw unsupported(`\`${key}\``)
  const request: ModelRequest = { messages: messagesOf(input) }
  if (typeof params['max_output_tokens'] === 'number') request.maxTokens = params['max_output_tokens']
  if (typeof params['temperature'] === 'number') request.temperature = params['temperature']
  if (input.tools && input.tools.length > 0) request.tools = input.tools
  const format = params['response_format'] as { type?: string } | undefined
  if (format?.type === 'json_schema') throw unsupported('a JSON schema response format')
  if (format?.type === 'json') request.jsonMode = true
  return request
}

const usageOf = (usage: Usage) => ({
  input_tokens: usage.inputTokens,
  output_tokens: usage.outputTokens,
  ...(usage.reasoningTokens != null && { reasoning_tokens: usage.reasoningTokens }),
  ...(usage.cacheRead != null && { cache_read: usage.cacheRead }),
  ...(usage.cacheWrite != null && { cache_write: usage.cacheWrite }),
})

const toolCallOf = (call: ToolCall) => ({
  id: call.id,
  type: 'function',
  function: { name: call.name, arguments: call.arguments },
})

function responseOf(response: ModelResponse): unknown {
  if (typeof response !== 'object' || response === null) {
    throw new ModelportError({
      code: 'PARSE_ERROR',
      message: 'generate() must answer a ModelResponse object',
    })
  }
  return {
    ...(response.text != null && { text: response.text }),
    ...(response.toolCalls?.length && { tool_calls: response.toolCalls.map(toolCallOf) }),
    ...(response.usage && {
      usage: usageOf({ inputTokens: response.usage.inputTokens, outputTokens: response.usage.outputTokens }),
    }),
    ...(response.finishReason && { finish_reason: FINISH[response.finishReason] }),
  }
}

function chunkOf(event: ChatStreamEvent): unknown {
  switch (event.type) {
    case 'text':
      return { text: event.text }
    case 'thinking':
      return { thinking: event.text }
    case 'thinkingSignature':
      return { thinking_signature: event.signature }
    case 'toolUseStart':
      return { tool_use_start: { index: event.index, id: event.id, name: event.name } }
    case 'toolUseInputDelta':
      return { tool_use_input_delta: { index: event.index, partial_json: event.partialJson } }
    case 'toolUseComplete':
      return { tool_use_complete: { index: event.index, tool_call: toolCallOf(event.toolCall) } }
    case 'usage':
      return { usage: usageOf(event.usage) }
    case 'done':
      return { done: { finish_reason: FINISH[event.finishReason] } }
    default:
      throw new ModelportError({
        code: 'PARSE_ERROR',
        message: `stream() yielded an event modelport does not know: ${JSON.stringify(event)}`,
      })
  }
}

/** Where `generate` reports an attempt's outcome: the answer's wire JSON, or a failure's. */
export type Settle = (callId: number, outcome: string, failed: boolean) => void

/** The functions the binding calls for one registered provider plugin. */
export function providerAdapter(plugin: ProviderAdapterPlugin, context: PluginContext) {
  // Each attempt's abort; its AbortController is made only if the plugin reads `ctx.abortSignal`.
  const calls = new Map<number, () => void>()
  const streams = new Map<number, AsyncIterator<ChatStreamEvent>>()
  let settle: Settle = () => {
    throw new Error('providerAdapter: connect() was not called')
  }
  const begin = (id: number): PluginContext => {
    let controller: AbortController | undefined
    const signal = () => (controller ??= new AbortController())
    calls.set(id, () => signal().abort())
    return {
      ...context,
      get abortSignal() {
        return signal().signal
      },
    }
  }
  const end = (id: number) => {
    calls.delete(id)
    streams.delete(id)
  }
  const fail = (id: number, error: unknown) => settle(id, wireError(error).message, true)
  return {
    /** Gives the adapter the binding's `settle` (what `registerProvider` answers). */
    connect(to: Settle): void {
      settle = to
    },
    generate: ([id, json]: [number, string]): void => {
      let answer: Promise<ModelResponse>
      try {
        answer = Promise.resolve(plugin.generate(requestOf(JSON.parse(json) as WireChatInput), begin(id)))
      } catch (error) {
        end(id)
        fail(id, error)
        return
      }
      answer.then(
        (response) => {
          end(id)
          let wire: string
          try {
            wire = JSON.stringify(responseOf(response))
          } catch (error) {
            fail(id, error)
            return
          }
          settle(id, wire, false)
        },
        (error: unknown) => {
          end(id)
          fail(id, error)
        },
      )
    },
    streamStart: async ([id, json]: [number, string]): Promise<boolean> => {
      if (typeof plugin.stream !== 'function') return false
      try {
        const events = plugin.stream(requestOf(JSON.parse(json) as WireChatInput), begin(id))
        streams.set(id, events[Symbol.asyncIterator]())
        return true
      } catch (error) {
        end(id)
        throw wireError(error)
      }
    },
    streamNext: async (id: number): Promise<string | null> => {
      const events = streams.get(id)
      if (!events) return null
      try {
        const next = await events.next()
        if (next.done) {
          end(id)
          return null
        }
        return JSON.stringify([chunkOf(next.value)])
      } catch (error) {
        end(id)
        throw wireError(error)
      }
    },
    abort: (id: number): void => {
      calls.get(id)?.()
      void streams.get(id)?.return?.()
      end(id)
    },
  }
}
