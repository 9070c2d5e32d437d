import type { BindingProvider } from '../binding'
import { CallAbort, withAbort } from './call-options'
import { ChatStream } from './chat-stream'
import { callBinding, ModelportError } from './errors'
import { bounded } from './sdk/load'
import { DEFAULT_LIFECYCLE_TIMEOUT_MS } from './sdk/registered'
import type { HealthCheckResult, ProviderAdapterPlugin, ProviderCapabilities } from './sdk/types'
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
  /** The TypeScript plugin behind it, if it is one (`registry.register`). */
  readonly #sdkPlugin: ProviderAdapterPlugin | undefined

  /** @internal Built by `ProviderBuilder.build()`. */
  constructor(binding: BindingProvider, sdkPlugin?: ProviderAdapterPlugin) {
    this.#binding = binding
    this.#sdkPlugin = sdkPlugin
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

  /**
   * What it can do (seed 004's `ProviderCapabilities`): a TypeScript plugin's own answer;
   * otherwise derived from the protocol — streaming as the plugin reports it, tool calling (every
   * native and Wasm protocol carries tools), JSON mode when its config takes `response_format`
   * (or QueryMT's `json_schema`); `modality` `text` and `latencyClass` `medium`, which the
   * protocols cannot tell.
   */
  async capabilities(): Promise<ProviderCapabilities> {
    if (this.#sdkPlugin) return this.#sdkPlugin.capabilities()
    const derived = await callBinding(() => this.#binding.capabilities())
    return { ...derived, modality: 'text', latencyClass: 'medium' }
  }

  /**
   * Its health: a TypeScript plugin's own `healthCheck()`; otherwise derived from the protocol —
   * the model list answers (a plugin that lists no models is healthy once loaded and configured).
   * Bounded by `timeoutMs` (default 10 s), not retried unless `maxRetries` says so; a failure is
   * `{ healthy: false, message, details: { code } }`, never a throw.
   */
  async healthCheck(options: RequestOptions = {}): Promise<HealthCheckResult> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_LIFECYCLE_TIMEOUT_MS
    try {
      if (this.#sdkPlugin) {
        const plugin = this.#sdkPlugin
        return await bounded(
          Promise.resolve().then(() => plugin.healthCheck()),
          timeoutMs,
          'healthCheck()',
          this.plugin,
        )
      }
      const health = await withAbort('healthCheck', { maxRetries: 0, ...options, timeoutMs }, (call) =>
        callBinding(() => this.#binding.healthCheck(call)),
      )
      return health.code
        ? { healthy: false, message: health.message, details: { code: health.code } }
        : { healthy: true, message: health.message }
    } catch (error) {
      const code = error instanceof ModelportError ? error.code : undefined
      const message = error instanceof Error ? error.message : String(error)
      return code ? { healthy: false, message, details: { code } } : { healthy: false, message }
    }
  }
}
