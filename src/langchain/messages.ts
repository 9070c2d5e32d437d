// LangChain messages as modelport messages, and modelport's answers as LangChain's pieces.
import type { BaseMessage, ToolCall as LangChainToolCall, UsageMetadata } from '@langchain/core/messages'

import { ModelportError } from '../errors'
import type { Message, Part, ToolCall, Usage } from '../types'

/** A LangChain message's content (a string or content blocks) as modelport parts. */
function partsOf(content: BaseMessage['content']): string | Part[] {
  if (typeof content === 'string') return content
  return content.flatMap((block): Part[] => {
    const item = block as Record<string, unknown>
    if (item['type'] === 'text' && typeof item['text'] === 'string')
      return [{ type: 'text', text: item['text'] }]
    if (item['type'] === 'image_url') {
      const value = item['image_url']
      const url = typeof value === 'string' ? value : (value as { url?: string } | undefined)?.url
      if (typeof url === 'string') {
        const data = /^data:([^;,]+);base64,(.*)$/s.exec(url)
        return [data ? { type: 'image', mimeType: data[1]!, data: data[2]! } : { type: 'imageUrl', url }]
      }
    }
    throw new ModelportError({
      code: 'INVALID_REQUEST',
      message: `a LangChain content block of type ${JSON.stringify(item['type'])} has no modelport part`,
    })
  })
}

/** `messages` as modelport messages. */
export function toMessages(messages: BaseMessage[]): Message[] {
  return messages.map((message): Message => {
    const type = message.getType()
    switch (type) {
      case 'system':
        return {
          role: 'system',
          content: typeof message.content === 'string' ? message.content : message.text,
        }
      case 'human':
        return { role: 'user', content: partsOf(message.content) }
      case 'ai': {
        const calls = (message as BaseMessage & { tool_calls?: LangChainToolCall[] }).tool_calls ?? []
        const toolCalls: ToolCall[] = calls.map((call, index) => ({
          id: call.id ?? `call_${index}`,
          name: call.name,
          arguments: JSON.stringify(call.args ?? {}),
        }))
        return {
          role: 'assistant',
          content: partsOf(message.content),
          ...(toolCalls.length > 0 ? { toolCalls } : {}),
        }
      }
      case 'tool': {
        const tool = message as BaseMessage & { tool_call_id: string; status?: string }
        return {
          role: 'tool',
          toolCallId: tool.tool_call_id,
          ...(message.name ? { name: message.name } : {}),
          content: partsOf(message.content),
          isError: tool.status === 'error',
        }
      }
      default:
        throw new ModelportError({
          code: 'INVALID_REQUEST',
          message: `a LangChain ${type} message has no modelport role`,
        })
    }
  })
}

/** modelport's usage as LangChain's `usage_metadata`. */
export function usageMetadataOf(usage: Usage): UsageMetadata {
  return {
    input_tokens: usage.inputTokens,
    output_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    ...(usage.cacheRead != null || usage.cacheWrite != null
      ? {
          input_token_details: {
            ...(usage.cacheRead != null ? { cache_read: usage.cacheRead } : {}),
            ...(usage.cacheWrite != null ? { cache_creation: usage.cacheWrite } : {}),
          },
        }
      : {}),
    ...(usage.reasoningTokens != null ? { output_token_details: { reasoning: usage.reasoningTokens } } : {}),
  }
}
