import type { BindingCallOptions, BindingResponseFormat } from '../binding'
import { ModelportError } from './errors'
import { binding } from './native-binding'
import type { ChatOptions, RequestOptions, ResponseFormat } from './types'

/** A facade response format in the binding's shape. */
function responseFormat(format: ResponseFormat | undefined): BindingResponseFormat | undefined {
  if (format === undefined) return undefined
  if (format === 'text' || format === 'json') return { kind: format }
  if (format && typeof format === 'object' && 'schema' in format) return { kind: 'jsonSchema', ...format }
  throw new ModelportError({
    code: 'INVALID_REQUEST',
    message: `responseFormat must be 'text', 'json' or { schema }, got ${JSON.stringify(format)}`,
  })
}

/** The per-call settings the binding takes (besides the abort token). */
export const CALL_SETTINGS = [
  'timeoutMs',
  'maxRetries',
  'toolChoice',
  'temperature',
  'maxOutputTokens',
  'topP',
  'topK',
  'stopSequences',
  'seed',
  'responseFormat',
  'headers',
  'parameters',
] as const satisfies readonly (keyof (RequestOptions & ChatOptions))[]

/** A provider call's abort wiring: a binding abort token, cancelled when `signal` aborts. */
export class CallAbort {
  readonly #signal: AbortSignal | undefined
  readonly #id: number | undefined
  readonly #onAbort: (() => void) | undefined
  #ended = false

  constructor(signal: AbortSignal | undefined) {
    this.#signal = signal
    if (signal && !signal.aborted) {
      const id = binding.newCall()
      this.#id = id
      this.#onAbort = () => binding.cancelCall(id)
      signal.addEventListener('abort', this.#onAbort, { once: true })
    }
  }

  /** The binding's abort token number (none without a signal). */
  get callId(): number | undefined {
    return this.#id
  }

  /** Throws `ABORTED` if the signal aborted before the call started. */
  throwIfAborted(what: string): void {
    if (this.#signal?.aborted) {
      throw new ModelportError({ code: 'ABORTED', message: `${what} was aborted before it started` })
    }
  }

  /** The binding's options for this call; none when nothing is set (the common case, which
   * spares the binding reading a dozen absent fields). */
  options(options: RequestOptions & Partial<ChatOptions>): BindingCallOptions | undefined {
    if (this.#id === undefined && !CALL_SETTINGS.some((key) => options[key] !== undefined)) return undefined
    return {
      callId: this.callId,
      timeoutMs: options.timeoutMs,
      maxRetries: options.maxRetries,
      toolChoice: options.toolChoice,
      temperature: options.temperature,
      maxOutputTokens: options.maxOutputTokens,
      topP: options.topP,
      topK: options.topK,
      stopSequences: options.stopSequences,
      seed: options.seed,
      responseFormat: responseFormat(options.responseFormat),
      headers: options.headers,
      parameters: options.parameters,
    }
  }

  /** The call is over: stop listening and free the token. Idempotent. */
  end(): void {
    if (this.#ended) return
    this.#ended = true
    if (this.#onAbort) this.#signal?.removeEventListener('abort', this.#onAbort)
    if (this.#id !== undefined) binding.endCall(this.#id)
  }
}

/** Runs a one-shot binding call with `options`' abort signal wired to it. */
export async function withAbort<T>(
  what: string,
  options: RequestOptions & Partial<ChatOptions>,
  run: (options: BindingCallOptions | undefined) => Promise<T>,
): Promise<T> {
  const abort = new CallAbort(options.signal)
  try {
    abort.throwIfAborted(what)
    return await run(abort.options(options))
  } finally {
    abort.end()
  }
}
