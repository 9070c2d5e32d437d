import type { BindingProvider } from '../binding'
import { CallAbort, withAbort } from './call-options'
import { ChatStream } from './chat-stream'
import { callBinding, ModelportError } from './errors'
import type {
  ChatOptions,
  ChatResponse,
  CompletionRequest,
  CompletionResponse,
  Message,
  RequestOptions,
  Speech,
  SpeechOptions,
  TranscribeOptions,
  Transcript,
} from './types'

/** The MIME type of each audio format a speech call can ask for. */
const AUDIO_TYPES: Record<string, string> = {
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  opus: 'audio/opus',
  aac: 'audio/aac',
  flac: 'audio/flac',
  pcm: 'audio/pcm',
}

function checkMessages(messages: unknown, what: string): void {
  if (!Array.isArray(messages)) {
    throw new ModelportError({
      code: 'INVALID_REQUEST',
      message: `${what}(messages): messages must be an array`,
    })
  }
}

/**
 * A configured provider: the same object whatever plugin kind runs it. All calls run off the JS
 * thread, take an `AbortSignal`, a timeout and a retry limit, and fail with a `ModelportError`.
 */
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
    checkMessages(messages, 'chat')
    const response = await withAbort('chat', options, (call) =>
      callBinding(() => this.#binding.chat(messages, options.tools ?? null, call)),
    )
    return {
      text: response.text ?? null,
      toolCalls: response.toolCalls,
      thinking: response.thinking ?? null,
      usage: response.usage ?? null,
      finishReason: (response.finishReason ?? null) as ChatResponse['finishReason'],
    }
  }

  /**
   * One chat turn, streamed: `for await (const event of provider.chatStream(messages))`. A provider
   * that cannot stream answers whole, as the same events.
   */
  chatStream(messages: Message[], options: ChatOptions = {}): ChatStream {
    const abort = new CallAbort(options.signal)
    const started = (async () => {
      checkMessages(messages, 'chatStream')
      abort.throwIfAborted('chatStream')
      return this.#binding.chatStream(messages, options.tools ?? null, abort.options(options))
    })()
    return new ChatStream(started, abort)
  }

  /** One vector per input, in order. */
  async embed(inputs: string[] | string, options: RequestOptions = {}): Promise<Float32Array[]> {
    const list = typeof inputs === 'string' ? [inputs] : inputs
    return withAbort('embed', options, (call) => callBinding(() => this.#binding.embed(list, call)))
  }

  /** A text completion. */
  async complete(request: CompletionRequest, options: RequestOptions = {}): Promise<CompletionResponse> {
    return withAbort('complete', options, (call) => callBinding(() => this.#binding.complete(request, call)))
  }

  /** Transcribes audio (speech-to-text); `UNSUPPORTED` for a provider without it. */
  async transcribe(audio: Uint8Array, options: TranscribeOptions): Promise<Transcript> {
    if (!(audio instanceof Uint8Array)) {
      throw new ModelportError({
        code: 'INVALID_REQUEST',
        message: 'transcribe(audio): audio must be a Uint8Array',
      })
    }
    if (typeof options?.mimeType !== 'string' || options.mimeType === '') {
      throw new ModelportError({
        code: 'INVALID_REQUEST',
        message: 'transcribe(audio, options): options.mimeType is required (e.g. "audio/wav")',
      })
    }
    const { mimeType, language, prompt, filename, model } = options
    return withAbort('transcribe', options, (call) =>
      callBinding(() =>
        this.#binding.transcribe(audio, { mimeType, language, prompt, filename, model }, call),
      ),
    )
  }

  /** Speaks `text` (text-to-speech); `UNSUPPORTED` for a provider without it. */
  async speech(text: string, options: SpeechOptions = {}): Promise<Speech> {
    if (typeof text !== 'string') {
      throw new ModelportError({ code: 'INVALID_REQUEST', message: 'speech(text): text must be a string' })
    }
    const { voice, format, speed, language, model } = options
    const spoken = await withAbort('speech', options, (call) =>
      callBinding(() => this.#binding.speech(text, { voice, format, speed, language, model }, call)),
    )
    const mimeType = spoken.mimeType ?? AUDIO_TYPES[format ?? 'mp3'] ?? 'application/octet-stream'
    return { audio: spoken.audio, mimeType }
  }

  /** The models available under this provider's config. */
  async listModels(options: RequestOptions = {}): Promise<string[]> {
    return withAbort('listModels', options, (call) => callBinding(() => this.#binding.listModels(call)))
  }
}
