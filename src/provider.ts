import type { BindingProvider } from '../binding'
import { callBinding, ModelportError } from './errors'
import type { ChatOptions, ChatResponse, CompletionRequest, CompletionResponse, Message } from './types'

/** A configured provider: the same object whatever plugin kind runs it. All calls run off the JS thread. */
export class Provider {
  readonly #binding: BindingProvider

  /** @internal Built by `ProviderBuilder.build()`. */
  constructor(binding: BindingProvider) {
    this.#binding = binding
  }

  /** The config name of the plugin behind this provider. */
  get plugin(): string {
    return this.#binding.plugin
  }

  /** One chat turn. `system` messages are appended to the provider's configured system prompt for this call. */
  async chat(messages: Message[], options: ChatOptions = {}): Promise<ChatResponse> {
    if (!Array.isArray(messages)) {
      throw new ModelportError({
        code: 'INVALID_REQUEST',
        message: 'chat(messages): messages must be an array',
      })
    }
    const response = await callBinding(() => this.#binding.chat(messages, options.tools ?? null))
    return {
      text: response.text ?? null,
      toolCalls: response.toolCalls,
      thinking: response.thinking ?? null,
      usage: response.usage ?? null,
      finishReason: (response.finishReason ?? null) as ChatResponse['finishReason'],
    }
  }

  /** One vector per input, in order. */
  async embed(inputs: string[] | string): Promise<Float32Array[]> {
    const list = typeof inputs === 'string' ? [inputs] : inputs
    return callBinding(() => this.#binding.embed(list))
  }

  /** A text completion. */
  async complete(request: CompletionRequest): Promise<CompletionResponse> {
    return callBinding(() => this.#binding.complete(request))
  }
}
