import type { BindingChatStream } from '../binding'
import type { CallAbort } from './call-options'
import { callBinding, ModelportError } from './errors'
import type { ChatResponse, ChatStreamEvent, ToolCall, Usage } from './types'

/**
 * A streamed chat answer: an `AsyncIterable` of typed events, read once. The request starts when
 * the stream is created. Events are pulled in batches: the host reads ahead only a bounded amount,
 * so a slow reader slows the upstream instead of filling memory. Leaving the loop early (`break`,
 * `return`, an exception) or calling `close()` closes the HTTP stream and frees the plugin instance.
 */
export class ChatStream implements AsyncIterable<ChatStreamEvent> {
  readonly #started: Promise<BindingChatStream>
  readonly #abort: CallAbort
  #binding: BindingChatStream | undefined
  #read = false
  #closed = false

  /** @internal Made by `provider.chatStream()`. */
  constructor(started: Promise<BindingChatStream>, abort: CallAbort) {
    this.#abort = abort
    this.#started = callBinding(() => started)
    // Failures surface when the stream is read; never as an unhandled rejection.
    this.#started.then(
      (stream) => {
        this.#binding = stream
        if (this.#closed) stream.close()
      },
      () => abort.end(),
    )
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ChatStreamEvent> {
    if (this.#read) {
      throw new ModelportError({ code: 'INVALID_REQUEST', message: 'a ChatStream can be read only once' })
    }
    this.#read = true
    try {
      const stream = await this.#started
      for (;;) {
        const batch = await callBinding(() => stream.next())
        if (batch === null) return
        const events = JSON.parse(batch) as ChatStreamEvent[]
        for (const event of events) yield event
      }
    } finally {
      this.close()
    }
  }

  /** Reads the whole stream into the answer `chat()` would have given. */
  async collect(): Promise<ChatResponse> {
    let text: string | null = null
    let thinking: string | null = null
    const calls = new Map<number, ToolCall>()
    let usage: Usage | null = null
    let finishReason: ChatResponse['finishReason'] = null
    for await (const event of this) {
      switch (event.type) {
        case 'text':
          text = (text ?? '') + event.text
          break
        case 'thinking':
          thinking = (thinking ?? '') + event.text
          break
        case 'toolUseComplete':
          calls.set(event.index, event.toolCall)
          break
        case 'usage':
          usage = event.usage
          break
        case 'done':
          finishReason = event.finishReason
          break
      }
    }
    const toolCalls = [...calls.entries()].sort(([a], [b]) => a - b).map(([, call]) => call)
    return { text, toolCalls, thinking, usage, finishReason }
  }

  /** Stops the stream and frees what it holds. Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#binding?.close()
    this.#abort.end()
  }
}
