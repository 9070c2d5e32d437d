// modelport's failures as OpenAI's error envelope, with the HTTP status each code stands for.
import { ModelportError } from '../errors'

/** A request the gateway refuses itself (bad JSON, unknown route, over a limit). */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
  }
}

const STATUS: Partial<Record<string, number>> = {
  AUTH: 401,
  RATE_LIMITED: 429,
  QUOTA_EXCEEDED: 429,
  INVALID_REQUEST: 400,
  CONFIG_SCHEMA_VIOLATION: 400,
  CONFIG_INVALID: 400,
  UNSUPPORTED: 400,
  CONTEXT_WINDOW_EXCEEDED: 400,
  PLUGIN_NOT_FOUND: 404,
  TIMEOUT: 504,
  PLUGIN_TIMEOUT: 504,
  TRANSPORT: 502,
  PARSE_ERROR: 502,
  RESPONSE_TOO_LARGE: 502,
  PROVIDER_ERROR: 502,
  ABORTED: 499,
}

function typeOf(status: number): string {
  if (status === 401) return 'authentication_error'
  if (status === 429) return 'rate_limit_error'
  if (status === 404) return 'not_found_error'
  if (status < 500) return 'invalid_request_error'
  return 'api_error'
}

/** The status, headers and body of OpenAI's error envelope for `error`. */
export function errorResponse(error: unknown): {
  status: number
  headers: Record<string, string>
  body: { error: { message: string; type: string; code: string; param: null } }
} {
  if (error instanceof GatewayError) {
    return {
      status: error.status,
      headers: error.headers,
      body: { error: { message: error.message, type: typeOf(error.status), code: error.code, param: null } },
    }
  }
  if (error instanceof ModelportError) {
    let status = STATUS[error.code] ?? 500
    // An upstream HTTP status modelport did not classify passes through when it is an error status.
    if (error.code === 'HTTP_STATUS') status = error.status && error.status >= 400 ? error.status : 502
    const headers: Record<string, string> = {}
    if (status === 429 && error.retryAfterMs !== undefined)
      headers['retry-after'] = String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)))
    const code = error.code === 'QUOTA_EXCEEDED' ? 'insufficient_quota' : error.code.toLowerCase()
    return {
      status,
      headers,
      body: { error: { message: error.message, type: typeOf(status), code, param: null } },
    }
  }
  const message = error instanceof Error ? error.message : String(error)
  return {
    status: 500,
    headers: {},
    body: { error: { message, type: 'api_error', code: 'internal_error', param: null } },
  }
}
