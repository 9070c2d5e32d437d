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

  /**
   * Events come from the binding in batches; `next()` hands out a batch's events from memory
   * (an already-settled promise each) and asks the binding only when the batch is used up. A hand
   * written iterator, not an async generator: a generator's queue and resumption cost more than
   * parsing the event.
   */
  [Symbol.asyncIterator](): AsyncIterator<ChatStreamEvent> {
    const first = !this.#read
    this.#read = true
    let batch: ChatStreamEvent[] = []
    let position = 0
    let ended = !first
    let pulling: Promise<IteratorResult<ChatStreamEvent>> | undefined
    const end = (): IteratorResult<ChatStreamEvent> => {
      ended = true
      this.close()
      return { value: undefined, done: true }
    }
    const pull = async (): Promise<IteratorResult<ChatStreamEvent>> => {
      try {
        const stream = await this.#started
        while (!ended) {
          const json = await callBinding(() => stream.next())
          if (json == null) break
          batch = JSON.parse(json) as ChatStreamEvent[]
          position = 0
          if (batch.length > 0) return { value: batch[position++]!, done: false }
        }
        return end()
      } catch (error) {
        end()
        throw error
      } finally {
        pulling = undefined
      }
    }
    const iterator: AsyncIterator<ChatStreamEvent> = {
      next: () => {
        if (!first) {
          return Promise.reject(
            new ModelportError({ code: 'INVALID_REQUEST', message: 'a ChatStream can be read only once' }),
          )
        }
        // Calls made while a batch is being fetched wait for it, in order.
        if (pulling) return pulling.then(() => iterator.next())
        if (ended) return Promise.resolve({ value: undefined, done: true })
        if (position < batch.length) return Promise.resolve({ value: batch[position++]!, done: false })
        pulling = pull()
        return pulling
      },
      // `break`, `return` or an exception in a `for await` loop: close the stream.
      return: () => Promise.resolve(first ? end() : { value: undefined, done: true }),
    }
    return iterator
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
