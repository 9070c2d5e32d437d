/** Stable error codes; `ModelportError.code` is always one of these. */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_SCHEMA_VIOLATION'
  | 'PLUGIN_NOT_FOUND'
  | 'PLUGIN_LOAD_FAILED'
  | 'ABI_MISMATCH'
  | 'PLUGIN_PANICKED'
  | 'PLUGIN_TRAPPED'
  | 'PLUGIN_TIMEOUT'
  | 'PLUGIN_OUT_OF_MEMORY'
  | 'HOST_NOT_ALLOWED'
  | 'HTTP_STATUS'
  | 'RATE_LIMITED'
  | 'AUTH'
  | 'TRANSPORT'
  | 'PARSE_ERROR'
  | 'PROVIDER_ERROR'
  | 'ABORTED'
  | 'UNSUPPORTED'
  | 'INVALID_REQUEST'
  | 'TIMEOUT'
  | 'RESPONSE_TOO_LARGE'
  | 'PLUGIN_ERROR'
  /** A Wasm plugin went over a per-instance limit of its sandbox (open host streams). */
  | 'PLUGIN_LIMIT_EXCEEDED'
  /** The account's quota or plan limit is used up (a 429 that waiting will not fix). */
  | 'QUOTA_EXCEEDED'
  /** The conversation is longer than the model's context window. */
  | 'CONTEXT_WINDOW_EXCEEDED'
  /** A plugin (modelport/sdk) is malformed: its manifest, its export or its shape. */
  | 'PLUGIN_INVALID'
  /** A plugin's SDK version range excludes this modelport's `SDK_VERSION`. */
  | 'SDK_VERSION_MISMATCH'
  /** A plugin's own storage failed (the vector store's database: unreadable, full, locked). */
  | 'STORAGE_ERROR'
  /** A host function given to a raw Extism plugin threw, or answered what its import cannot take. */
  | 'HOST_FUNCTION_ERROR'
  /** No prebuilt binary exists for this platform (thrown when `modelport` is imported). */
  | 'UNSUPPORTED_PLATFORM'
  /** This platform is supported, but its binary package is missing or would not load. */
  | 'BINDING_LOAD_FAILED'

/** The fields a `ModelportError` carries besides its message. */
export interface ModelportErrorInfo {
  code: ErrorCode
  message: string
  /** The plugin involved, if any. */
  plugin?: string
  /** The file involved (config file or plugin library), if any. */
  path?: string
  /** JSON Pointer into the offending config, for schema violations. */
  jsonPath?: string
  /** 1-based position in `path`, for config syntax errors. */
  line?: number
  column?: number
  /** HTTP status behind the failure, if any. */
  status?: number
  /** How long the provider asked to wait before retrying, if it said. */
  retryAfterMs?: number
  /**
   * Whether another attempt could succeed: the plugin's classification where it gave one (a
   * QueryMT provider failure's `kind`), else modelport's retry policy for the code and status.
   */
  retryable?: boolean
  /** Underlying causes, outermost first (also chained as `error.cause`). */
  causes?: string[]
}

const PREFIX = 'MODELPORT_ERROR:'

/** Every failure modelport reports: a stable `code`, the plugin, the path and a cause chain. */
export class ModelportError extends Error {
  readonly code: ErrorCode
  readonly plugin: string | undefined
  readonly path: string | undefined
  readonly jsonPath: string | undefined
  readonly line: number | undefined
  readonly column: number | undefined
  readonly status: number | undefined
  readonly retryAfterMs: number | undefined
  /** Whether modelport's retry policy would try again (see `ModelportErrorInfo.retryable`). */
  readonly retryable: boolean
  readonly causes: readonly string[]

  constructor(info: ModelportErrorInfo, options?: { cause?: unknown }) {
    const causes = info.causes ?? []
    const chained =
      options?.cause ??
      causes.reduceRight<Error | undefined>(
        (inner, text) => new Error(text, inner ? { cause: inner } : undefined),
        undefined,
      )
    super(describe(info), chained === undefined ? undefined : { cause: chained })
    this.name = 'ModelportError'
    this.code = info.code
    this.plugin = info.plugin
    this.path = info.path
    this.jsonPath = info.jsonPath
    this.line = info.line
    this.column = info.column
    this.status = info.status
    this.retryAfterMs = info.retryAfterMs
    this.retryable = info.retryable ?? false
    this.causes = causes
  }

  /** The error as plain data (what `--json` output and logs use). */
  toJSON(): ModelportErrorInfo {
    const { code, plugin, path, jsonPath, line, column, status, retryAfterMs, causes } = this
    return {
      code,
      message: this.message,
      plugin,
      path,
      jsonPath,
      line,
      column,
      status,
      retryAfterMs,
      causes: [...causes],
    }
  }
}

function describe(info: ModelportErrorInfo): string {
  let text = info.plugin ? `plugin '${info.plugin}': ${info.message}` : info.message
  if (info.path) {
    const position =
      info.line !== undefined && info.column !== undefined ? `:${info.line}:${info.column}` : ''
    text += ` (${info.path}${position})`
  }
  for (const cause of info.causes ?? []) text += `: ${cause}`
  return text
}

/**
 * Rebuilds a `ModelportError` from the JSON the core writes for one (a thrown error's message, a
 * load report's `error`): the one way errors cross from Rust.
 */
export function errorFromJson(json: string): ModelportError {
  return new ModelportError(JSON.parse(json) as ModelportErrorInfo)
}

/** The fields of an error the core threw through the binding, if `error` is one. */
export function bindingErrorInfo(error: unknown): ModelportErrorInfo | undefined {
  const message = error instanceof Error ? error.message : String(error)
  if (!message.startsWith(PREFIX)) return undefined
  try {
    return JSON.parse(message.slice(PREFIX.length)) as ModelportErrorInfo
  } catch {
    return undefined // not the JSON we expected
  }
}

/** Turns whatever the native binding threw into a `ModelportError`. */
export function fromBindingError(error: unknown): ModelportError {
  if (error instanceof ModelportError) return error
  const info = bindingErrorInfo(error)
  if (info) return new ModelportError(info)
  // napi argument conversion errors ("Failed to convert JavaScript value …") are caller mistakes.
  const message = error instanceof Error ? error.message : String(error)
  return new ModelportError({ code: 'INVALID_REQUEST', message }, { cause: error })
}

/** Runs a binding call, rethrowing its failures as `ModelportError`. */
export async function callBinding<T>(call: () => Promise<T> | T): Promise<T> {
  try {
    return await call()
  } catch (error) {
    throw fromBindingError(error)
  }
}

/** Synchronous twin of `callBinding`. */
export function callBindingSync<T>(call: () => T): T {
  try {
    return call()
  } catch (error) {
    throw fromBindingError(error)
  }
}
