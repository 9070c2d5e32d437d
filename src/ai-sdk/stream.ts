// A modelport ChatStream as the AI SDK's stream parts: text and reasoning blocks opened and closed
// around their deltas, tool-input-start/delta/end then tool-call per tool call, finish last.
import type { LanguageModelV3StreamPart, SharedV3Warning } from '@ai-sdk/provider'

import type { ChatStream } from '../chat-stream'
import type { Usage } from '../types'
import { toAISDKError } from './errors'
import { finishReasonOf, usageOf } from './results'

export function toStreamParts(
  stream: ChatStream,
  warnings: SharedV3Warning[],
  plugin: string,
): ReadableStream<LanguageModelV3StreamPart> {
  const iterator = stream[Symbol.asyncIterator]()
  let open: 'text' | 'reasoning' | undefined
  let block = 0
  let usage: Usage | null = null
  const toolIds = new Map<number, string>()
  return new ReadableStream<LanguageModelV3StreamPart>({
    start(controller) {
      controller.enqueue({ type: 'stream-start', warnings })
    },
    async pull(controller) {
      const emit = (part: LanguageModelV3StreamPart) => controller.enqueue(part)
      const close = () => {
        if (open) emit({ type: open === 'text' ? 'text-end' : 'reasoning-end', id: String(block) })
        open = undefined
      }
      const openAs = (kind: 'text' | 'reasoning') => {
        if (open === kind) return
        close()
        block++
        open = kind
        emit({ type: kind === 'text' ? 'text-start' : 'reasoning-start', id: String(block) })
      }
      try {
        // One event per pull, unless it only opens or closes a block.
        const next = await iterator.next()
        if (next.done) {
          close()
          controller.close()
          return
        }
        const event = next.value
        switch (event.type) {
          case 'text':
            openAs('text')
            emit({ type: 'text-delta', id: String(block), delta: event.text })
            break
          case 'thinking':
            openAs('reasoning')
            emit({ type: 'reasoning-delta', id: String(block), delta: event.text })
            break
          case 'thinkingSignature':
            if (open === 'reasoning')
              emit({
                type: 'reasoning-delta',
                id: String(block),
                delta: '',
                providerMetadata: { modelport: { signature: event.signature } },
              })
            break
          case 'toolUseStart':
            close()
            toolIds.set(event.index, event.id)
            emit({ type: 'tool-input-start', id: event.id, toolName: event.name })
            break
          case 'toolUseInputDelta':
            emit({
              type: 'tool-input-delta',
              id: toolIds.get(event.index) ?? String(event.index),
              delta: event.partialJson,
            })
            break
          case 'toolUseComplete': {
            const id = toolIds.get(event.index) ?? event.toolCall.id
            if (!toolIds.has(event.index))
              emit({ type: 'tool-input-start', id, toolName: event.toolCall.name })
            emit({ type: 'tool-input-end', id })
            emit({
              type: 'tool-call',
              toolCallId: event.toolCall.id,
              toolName: event.toolCall.name,
              input: event.toolCall.arguments,
            })
            break
          }
          case 'usage':
            usage = event.usage
            break
          case 'done':
            close()
            emit({ type: 'finish', usage: usageOf(usage), finishReason: finishReasonOf(event.finishReason) })
            break
        }
      } catch (error) {
        close()
        emit({ type: 'error', error: toAISDKError(error, plugin) })
        controller.close()
      }
    },
    async cancel() {
      await stream.close()
    },
  })
}
