// The AI SDK's call options as a modelport call's own settings. A setting the plugin's config
// schema has no key for becomes a warning (and is not sent) instead of failing the call.
import type { LanguageModelV3CallOptions, SharedV3Warning } from '@ai-sdk/provider'

import type { ChatOptions, JsonSchema, ToolDefinition } from '../types'

/** The config keys modelport lays each setting over (README: "A call's own settings"). */
const SETTING_KEYS = {
  temperature: ['temperature'],
  maxOutputTokens: ['max_tokens'],
  topP: ['top_p'],
  topK: ['top_k'],
  stopSequences: ['stop'],
  seed: ['seed'],
  responseFormat: ['response_format', 'json_schema'],
  headers: ['extra_headers'],
  toolChoice: ['tool_choice'],
} as const

/** modelport's own per-call options, under `providerOptions.modelport`. */
export interface ModelportCallProviderOptions {
  /** Deadline of the whole call in ms, retries included. */
  timeoutMs?: number
  /** Retries of a transient failure for this call. */
  maxRetries?: number
  /** Any other key the plugin's config schema accepts, for this call. */
  parameters?: Record<string, unknown>
}

/** Whether the plugin's config takes `key`: its schema lists it (or lists no properties at all). */
function accepts(schema: JsonSchema, key: string): boolean {
  const properties = schema['properties']
  return properties === null || typeof properties !== 'object' || key in properties
}

/** `options` as modelport's `ChatOptions` for a plugin whose config schema is `schema`. */
export function toChatOptions(
  options: LanguageModelV3CallOptions,
  schema: JsonSchema,
  warnings: SharedV3Warning[],
): ChatOptions {
  const chat: ChatOptions = {}
  const take = <K extends keyof typeof SETTING_KEYS>(name: K, value: ChatOptions[K] | undefined) => {
    if (value === undefined) return
    if (SETTING_KEYS[name].some((key) => accepts(schema, key))) chat[name] = value
    else
      warnings.push({ type: 'unsupported', feature: name, details: "the plugin's config has no key for it" })
  }
  take('temperature', options.temperature)
  take('maxOutputTokens', options.maxOutputTokens)
  take('topP', options.topP)
  take('topK', options.topK)
  take('stopSequences', options.stopSequences)
  take('seed', options.seed)
  if (options.responseFormat?.type === 'json') {
    const { schema: jsonSchema, name, description } = options.responseFormat
    take(
      'responseFormat',
      jsonSchema
        ? {
            schema: jsonSchema as JsonSchema,
            ...(name ? { name } : {}),
            ...(description ? { description } : {}),
          }
        : 'json',
    )
  }
  // The AI SDK adds its own `user-agent`; the plugin's HTTP client keeps its own.
  const headers = Object.entries(options.headers ?? {}).filter(
    (entry): entry is [string, string] => entry[1] !== undefined && entry[0].toLowerCase() !== 'user-agent',
  )
  if (headers.length > 0) take('headers', Object.fromEntries(headers))

  const parameters: Record<string, unknown> = {}
  for (const [name, key, value] of [
    ['presencePenalty', 'presence_penalty', options.presencePenalty],
    ['frequencyPenalty', 'frequency_penalty', options.frequencyPenalty],
  ] as const) {
    if (value === undefined) continue
    if (accepts(schema, key)) parameters[key] = value
    else
      warnings.push({ type: 'unsupported', feature: name, details: "the plugin's config has no key for it" })
  }

  const tools: ToolDefinition[] = []
  for (const tool of options.tools ?? []) {
    if (tool.type === 'function') {
      tools.push({
        name: tool.name,
        ...(tool.description ? { description: tool.description } : {}),
        parameters: tool.inputSchema as JsonSchema,
      })
    } else warnings.push({ type: 'unsupported', feature: `provider tool ${tool.name}` })
  }
  if (tools.length > 0) chat.tools = tools
  const choice = options.toolChoice
  if (choice && tools.length > 0)
    take('toolChoice', choice.type === 'tool' ? { name: choice.toolName } : choice.type)

  const own = (options.providerOptions?.['modelport'] ?? {}) as ModelportCallProviderOptions
  if (own.timeoutMs !== undefined) chat.timeoutMs = own.timeoutMs
  if (own.maxRetries !== undefined) chat.maxRetries = own.maxRetries
  const extra = { ...parameters, ...own.parameters }
  if (Object.keys(extra).length > 0) chat.parameters = extra
  if (options.abortSignal) chat.signal = options.abortSignal
  return chat
}
