// The AI SDK's prompt (LanguageModelV3Prompt) as modelport messages, with a warning for each part
// no modelport message can carry.
import type {
  LanguageModelV3DataContent,
  LanguageModelV3FilePart,
  LanguageModelV3Prompt,
  LanguageModelV3ToolResultPart,
  SharedV3Warning,
} from '@ai-sdk/provider'

import type { Message, Part, ToolCall } from '../types'

function base64Of(data: Uint8Array | string): string {
  return typeof data === 'string' ? data : Buffer.from(data).toString('base64')
}

/** Whether a media type is an image's: `image/png`, or `image` alone, which the AI SDK 7 gives a
 * URL part whose subtype it does not know. */
function isImage(mediaType: string | undefined): boolean {
  const type = mediaType?.toLowerCase() ?? ''
  return type === 'image' || type.startsWith('image/')
}

/** A file part as a modelport part: images (bytes or URL), PDFs and audio (bytes). */
function filePart(part: LanguageModelV3FilePart, warnings: SharedV3Warning[]): Part | undefined {
  const data: LanguageModelV3DataContent = part.data
  const type = part.mediaType.toLowerCase()
  if (data instanceof URL) {
    if (isImage(type)) return { type: 'imageUrl', url: data.href }
    warnings.push({
      type: 'unsupported',
      feature: `file URL (${part.mediaType})`,
      details: 'only image URLs are passed on',
    })
    return undefined
  }
  if (isImage(type)) return { type: 'image', mimeType: part.mediaType, data: base64Of(data) }
  if (type === 'application/pdf') return { type: 'pdf', data: base64Of(data) }
  if (type.startsWith('audio/')) return { type: 'audio', mimeType: part.mediaType, data: base64Of(data) }
  if (type.startsWith('text/')) {
    const text =
      typeof data === 'string'
        ? Buffer.from(data, 'base64').toString('utf8')
        : Buffer.from(data).toString('utf8')
    return { type: 'text', text }
  }
  warnings.push({ type: 'unsupported', feature: `file (${part.mediaType})` })
  return undefined
}

/** A tool result's output as the tool message's content, and whether it reports an error. */
function toolResult(part: LanguageModelV3ToolResultPart): { content: string | Part[]; isError: boolean } {
  const output = part.output
  switch (output.type) {
    case 'text':
      return { content: output.value, isError: false }
    case 'json':
      return { content: JSON.stringify(output.value), isError: false }
    case 'error-text':
      return { content: output.value, isError: true }
    case 'error-json':
      return { content: JSON.stringify(output.value), isError: true }
    case 'execution-denied':
      return { content: output.reason ?? 'The tool call was denied.', isError: true }
    case 'content':
      return {
        content: output.value.flatMap((item): Part[] => {
          if (item.type === 'text') return [{ type: 'text', text: item.text }]
          if (item.type === 'image-data' || (item.type === 'file-data' && isImage(item.mediaType)))
            return [{ type: 'image', mimeType: item.mediaType, data: item.data }]
          if (item.type === 'image-url' || (item.type === 'file-url' && isImage(item.mediaType)))
            return [{ type: 'imageUrl', url: item.url }]
          // Anything else (file ids, custom parts) as its JSON text.
          return [{ type: 'text', text: JSON.stringify(item) }]
        }),
        isError: false,
      }
  }
}

/** `prompt` as modelport messages; what cannot be carried is left out with a warning. */
export function toMessages(prompt: LanguageModelV3Prompt, warnings: SharedV3Warning[]): Message[] {
  const messages: Message[] = []
  for (const message of prompt) {
    switch (message.role) {
      case 'system':
        messages.push({ role: 'system', content: message.content })
        break
      case 'user': {
        const parts = message.content.flatMap((part): Part[] => {
          if (part.type === 'text') return [{ type: 'text', text: part.text }]
          const converted = filePart(part, warnings)
          return converted ? [converted] : []
        })
        messages.push({ role: 'user', content: parts })
        break
      }
      case 'assistant': {
        const parts: Part[] = []
        const toolCalls: ToolCall[] = []
        for (const part of message.content) {
          if (part.type === 'text') parts.push({ type: 'text', text: part.text })
          else if (part.type === 'reasoning') parts.push({ type: 'thinking', text: part.text })
          else if (part.type === 'tool-call')
            toolCalls.push({
              id: part.toolCallId,
              name: part.toolName,
              arguments: typeof part.input === 'string' ? part.input : JSON.stringify(part.input ?? {}),
            })
          else if (part.type === 'file') {
            const converted = filePart(part, warnings)
            if (converted) parts.push(converted)
          } else warnings.push({ type: 'unsupported', feature: `assistant ${part.type} part` })
        }
        messages.push({ role: 'assistant', content: parts, ...(toolCalls.length > 0 ? { toolCalls } : {}) })
        break
      }
      case 'tool':
        for (const part of message.content) {
          if (part.type !== 'tool-result') {
            warnings.push({ type: 'unsupported', feature: 'tool approval responses' })
            continue
          }
          const { content, isError } = toolResult(part)
          messages.push({ role: 'tool', toolCallId: part.toolCallId, name: part.toolName, content, isError })
        }
        break
    }
  }
  return messages
}
