// modelport's errors as the AI SDK's: an `APICallError` look-alike (the AI SDK recognises its
// errors by `Symbol.for` markers, so this needs no runtime dependency on `@ai-sdk/provider`),
// with the `ModelportError` as its `cause`.
import { ModelportError } from '../errors'

const AI_SDK_ERROR = Symbol.for('vercel.ai.error')
const API_CALL_ERROR = Symbol.for('vercel.ai.error.AI_APICallError')

/**
 * A failed modelport call, as the AI SDK's `APICallError` (`APICallError.isInstance(e)` holds);
 * `cause` is the `ModelportError`, `statusCode` its upstream HTTP status where it has one.
 * `isRetryable` is false: modelport has already retried what its policy retries.
 */
export class ModelportAISDKError extends Error {
  readonly [AI_SDK_ERROR] = true
  readonly [API_CALL_ERROR] = true
  override readonly name = 'AI_APICallError'
  readonly url: string
  readonly requestBodyValues: unknown = {}
  readonly statusCode: number | undefined
  readonly responseHeaders: Record<string, string> | undefined = undefined
  readonly responseBody: string | undefined = undefined
  readonly isRetryable = false
  readonly data: unknown
  override readonly cause: ModelportError

  constructor(cause: ModelportError, plugin: string) {
    super(`${cause.code}: ${cause.message}`, { cause })
    this.cause = cause
    this.url = `modelport:${plugin}`
    this.statusCode = cause.status ?? undefined
    this.data = cause.toJSON()
  }
}

/** `error` as the AI SDK sees modelport's failures; anything else as it is. */
export function toAISDKError(error: unknown, plugin: string): unknown {
  return error instanceof ModelportError ? new ModelportAISDKError(error, plugin) : error
}
