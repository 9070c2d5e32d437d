// OpenAI request bodies (chat completions, embeddings, completions) as modelport calls.
import type {
  ChatOptions,
  Message,
  Part,
  ResponseFormat,
  ToolCall,
  ToolChoice,
  ToolDefinition,
} from '../types'
import { GatewayError } from './errors'

type Json = Record<string, unknown>

function invalid(message: string): GatewayError {
  return new GatewayError(400, message, 'invalid_request_error')
}

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** `provider:model` (or `provider`: its configured model). */
export function routeOf(model: unknown): { provider: string; model: string | undefined } {
  if (typeof model !== 'string' || model === '') throw invalid("'model' must be a string: provider:model")
  const colon = model.indexOf(':')
  if (colon === 0 || colon === model.length - 1)
    throw invalid(`'model' ${JSON.stringify(model)}: expected provider:model`)
  return colon < 0
    ? { provider: model, model: undefined }
    : { provider: model.slice(0, colon), model: model.slice(colon + 1) }
}

function partsOf(content: unknown, where: string): string | Part[] {
  if (typeof content === 'string') return content
  if (content === null || content === undefined) return ''
  if (!Array.isArray(content)) throw invalid(`${where}.content must be a string or an array of parts`)
  return content.map((part, i): Part => {
    if (!isObject(part)) throw invalid(`${where}.content[${i}] must be an object`)
    if (part['type'] === 'text' && typeof part['text'] === 'string')
      return { type: 'text', text: part['text'] }
    if (part['type'] === 'image_url') {
      const value = part['image_url']
      const url = typeof value === 'string' ? value : isObject(value) ? value['url'] : undefined
      if (typeof url !== 'string') throw invalid(`${where}.content[${i}].image_url.url must be a string`)
      const data = /^data:([^;,]+);base64,(.*)$/s.exec(url)
      return data ? { type: 'image', mimeType: data[1]!, data: data[2]! } : { type: 'imageUrl', url }
    }
    throw invalid(`${where}.content[${i}]: parts of type ${JSON.stringify(part['type'])} are not supported`)
  })
}

function messagesOf(value: unknown): Message[] {
  if (!Array.isArray(value) || value.length === 0) throw invalid("'messages' must be a non-empty array")
  return value.map((message, i): Message => {
    const where = `messages[${i}]`
    if (!isObject(message)) throw invalid(`${where} must be an object`)
    switch (message['role']) {
      case 'system':
      case 'developer': {
        const content = partsOf(message['content'], where)
        return {
          role: 'system',
          content:
            typeof content === 'string'
              ? content
              : content.map((p) => (p.type === 'text' ? p.text : '')).join(''),
        }
      }
      case 'user':
        return { role: 'user', content: partsOf(message['content'], where) }
      case 'assistant': {
        const calls = message['tool_calls']
        const toolCalls: ToolCall[] = Array.isArray(calls)
          ? calls.map((call, j) => {
              const fn = isObject(call) && isObject(call['function']) ? call['function'] : undefined
              if (!isObject(call) || typeof call['id'] !== 'string' || !fn || typeof fn['name'] !== 'string')
                throw invalid(`${where}.tool_calls[${j}] must have an id and a function name`)
              return {
                id: call['id'],
                name: fn['name'],
                arguments: typeof fn['arguments'] === 'string' ? fn['arguments'] : '{}',
              }
            })
          : []
        return {
          role: 'assistant',
          content: partsOf(message['content'], where),
          ...(toolCalls.length > 0 ? { toolCalls } : {}),
        }
      }
      case 'tool':
        if (typeof message['tool_call_id'] !== 'string')
          throw invalid(`${where}.tool_call_id must be a string`)
        return {
          role: 'tool',
          toolCallId: message['tool_call_id'],
          content: partsOf(message['content'], where),
        }
      default:
        throw invalid(
          `${where}.role ${JSON.stringify(message['role'])} is not one of system, developer, user, assistant, tool`,
        )
    }
  })
}

function toolChoiceOf(value: unknown): ToolChoice | undefined {
  if (value === undefined || value === null) return undefined
  if (value === 'auto' || value === 'none' || value === 'required') return value
  if (isObject(value) && isObject(value['function']) && typeof value['function']['name'] === 'string')
    return { name: value['function']['name'] }
  throw invalid("'tool_choice' must be auto, none, required or {type: 'function', function: {name}}")
}

function responseFormatOf(value: unknown): ResponseFormat | undefined {
  if (!isObject(value) || value['type'] === 'text') return undefined
  if (value['type'] === 'json_object') return 'json'
  if (
    value['type'] === 'json_schema' &&
    isObject(value['json_schema']) &&
    isObject(value['json_schema']['schema'])
  ) {
    const spec = value['json_schema']
    return {
      schema: spec['schema'] as Json,
      ...(typeof spec['name'] === 'string' ? { name: spec['name'] } : {}),
      ...(typeof spec['strict'] === 'boolean' ? { strict: spec['strict'] } : {}),
    }
  }
  throw invalid("'response_format' must be text, json_object or json_schema with a schema")
}

/** A chat completion request as modelport's messages and call settings. */
export function chatRequestOf(body: Json): {
  messages: Message[]
  options: ChatOptions
  stream: boolean
  includeUsage: boolean
} {
  const options: ChatOptions = {}
  if (Array.isArray(body['tools']) && body['tools'].length > 0)
    options.tools = body['tools'] as ToolDefinition[]
  const choice = toolChoiceOf(body['tool_choice'])
  if (choice !== undefined && options.tools) options.toolChoice = choice
  const number = (key: string) => {
    const value = body[key]
    if (value === undefined || value === null) return undefined
    if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(`'${key}' must be a number`)
    return value
  }
  const temperature = number('temperature')
  if (temperature !== undefined) options.temperature = temperature
  const maxTokens = number('max_completion_tokens') ?? number('max_tokens')
  if (maxTokens !== undefined) options.maxOutputTokens = maxTokens
  const topP = number('top_p')
  if (topP !== undefined) options.topP = topP
  const seed = number('seed')
  if (seed !== undefined) options.seed = seed
  const stop = body['stop']
  if (typeof stop === 'string') options.stopSequences = [stop]
  else if (Array.isArray(stop)) options.stopSequences = stop.map(String)
  const format = responseFormatOf(body['response_format'])
  if (format !== undefined) options.responseFormat = format
  const streamOptions = body['stream_options']
  return {
    messages: messagesOf(body['messages']),
    options,
    stream: body['stream'] === true,
    includeUsage: isObject(streamOptions) && streamOptions['include_usage'] === true,
  }
}

/** The texts of an embeddings request. */
export function embeddingInputsOf(body: Json): { inputs: string[]; base64: boolean } {
  const input = body['input']
  const inputs =
    typeof input === 'string'
      ? [input]
      : Array.isArray(input) && input.every((i) => typeof i === 'string')
        ? (input as string[])
        : undefined
  if (!inputs) throw invalid("'input' must be a string or an array of strings")
  const encoding = body['encoding_format'] ?? 'float'
  if (encoding !== 'float' && encoding !== 'base64')
    throw invalid("'encoding_format' must be float or base64")
  return { inputs, base64: encoding === 'base64' }
}
