// A registered plugin behind modelport's guard (`registry.plugin(name)`): what the plugin answers
// is checked against its kind's contract (a wrong shape is `PLUGIN_INVALID` naming the method and
// the field), what it throws becomes a `ModelportError` naming it, and `ctx.abortSignal` ends the
// call with `ABORTED` even if the plugin ignores it.
import { ModelportError } from '../errors'
import { PluginValidationError } from './errors'
import type {
  EmbedderPlugin,
  HealthCheckResult,
  ModelRequest,
  ModelResponse,
  PluginConfig,
  PluginContext,
  ProviderAdapterPlugin,
  ProviderCapabilities,
  SdkPlugin,
  StreamEvent,
  ToolExecutorPlugin,
  ToolPolicy,
  ToolRunRequest,
  ToolRunResult,
  VectorBackendInfo,
  VectorItem,
  VectorMemoryBackendPlugin,
  VectorQueryFilter,
  VectorQueryResult,
} from './types'

/** Lifecycle calls the registry owns (bounded); the guard passes them to it. */
export interface Lifecycle {
  healthCheck(): Promise<HealthCheckResult>
  shutdown(): Promise<void>
}

const describe = (value: unknown) =>
  value === undefined ? 'undefined' : (JSON.stringify(value)?.slice(0, 80) ?? String(value))

class Guard {
  constructor(readonly plugin: string) {}

  wrong(method: string, jsonPath: string, message: string): PluginValidationError {
    return new PluginValidationError({
      plugin: this.plugin,
      jsonPath,
      message: `${method} answered the wrong shape: ${message}`,
    })
  }

  /** A plugin's failure as a `ModelportError` naming it as registered (the error it threw,
   * naming itself or another plugin, stays as the cause). */
  failure(method: string, error: unknown): ModelportError {
    if (error instanceof ModelportError) {
      if (error.plugin === this.plugin) return error
      const { code, message, path, jsonPath, status, retryAfterMs, retryable, causes } = error
      const info = {
        code,
        message,
        plugin: this.plugin,
        path,
        jsonPath,
        status,
        retryAfterMs,
        retryable,
        causes: [...causes],
      }
      return new ModelportError(info, { cause: error })
    }
    const message = error instanceof Error ? error.message : String(error)
    return new ModelportError(
      {
        code: 'PLUGIN_ERROR',
        plugin: this.plugin,
        message: `${method} failed: ${message}`,
        causes: [message],
      },
      { cause: error },
    )
  }

  /** Runs `work` (sync throws caught), racing `ctx.abortSignal`. */
  async call<T>(method: string, ctx: PluginContext | undefined, work: () => T | Promise<T>): Promise<T> {
    const signal = ctx?.abortSignal
    const aborted = () =>
      new ModelportError({ code: 'ABORTED', plugin: this.plugin, message: `${method} was aborted` })
    if (signal?.aborted) throw aborted()
    let onAbort: (() => void) | undefined
    try {
      const running = Promise.resolve().then(work)
      const stop = new Promise<never>((_, reject) => {
        if (signal) {
          onAbort = () => reject(aborted())
          signal.addEventListener('abort', onAbort, { once: true })
        }
      })
      return await (signal ? Promise.race([running, stop]) : running)
    } catch (error) {
      throw this.failure(method, error)
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort)
    }
  }

  /** Runs a synchronous method, its throws typed. */
  sync<T>(method: string, work: () => T): T {
    try {
      return work()
    } catch (error) {
      throw this.failure(method, error)
    }
  }

  object(method: string, value: unknown): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw this.wrong(method, method, `an object is expected, got ${describe(value)}`)
    }
    return value as Record<string, unknown>
  }

  field(
    method: string,
    value: Record<string, unknown>,
    key: string,
    type: string,
    check?: (v: unknown) => boolean,
  ) {
    const got = value[key]
    if (typeof got !== type || (check && !check(got))) {
      throw this.wrong(
        method,
        `${method}.${key}`,
        `${key} must be ${check ? `a valid ${type}` : `a ${type}`}, got ${describe(got)}`,
      )
    }
  }
}

/** What every kind's guarded plugin has: its name, SDK range, `init` and the lifecycle. */
function base(guard: Guard, plugin: SdkPlugin, lifecycle: Lifecycle) {
  return {
    name: plugin.name,
    sdkVersion: plugin.sdkVersion,
    init: (config: PluginConfig, ctx: PluginContext) =>
      guard.call('init()', ctx, () => plugin.init(config, ctx)),
    ...lifecycle,
  }
}

const finite = (v: unknown) => Number.isFinite(v)
const whole = (v: unknown) => Number.isInteger(v)
const positiveWhole = (v: unknown) => Number.isInteger(v) && (v as number) > 0

function guardEmbedder(guard: Guard, plugin: EmbedderPlugin, lifecycle: Lifecycle): EmbedderPlugin {
  const dims = () => {
    const value = guard.sync('dims()', () => plugin.dims())
    if (!positiveWhole(value))
      throw guard.wrong('dims()', 'dims()', `a whole number above 0 is expected, got ${describe(value)}`)
    return value
  }
  return {
    ...base(guard, plugin, lifecycle),
    dims,
    async embedTexts(texts: string[], ctx: PluginContext): Promise<number[][]> {
      const vectors = await guard.call('embedTexts()', ctx, () => plugin.embedTexts(texts, ctx))
      if (!Array.isArray(vectors) || vectors.length !== texts.length) {
        throw guard.wrong(
          'embedTexts()',
          'embedTexts()',
          `${texts.length} vectors are expected, got ${Array.isArray(vectors) ? vectors.length : describe(vectors)}`,
        )
      }
      const size = dims()
      vectors.forEach((vector: unknown, at) => {
        const path = `embedTexts()[${at}]`
        const values = vector as ArrayLike<unknown> | undefined
        if (!(Array.isArray(vector) || ArrayBuffer.isView(vector)) || values?.length !== size) {
          throw guard.wrong(
            'embedTexts()',
            path,
            `vector ${at} has ${String(values?.length)} dimensions; dims() is ${size}`,
          )
        }
        for (let d = 0; d < size; d++) {
          if (!Number.isFinite(values[d]))
            throw guard.wrong(
              'embedTexts()',
              `${path}[${d}]`,
              `${describe(values[d])} is not a finite number`,
            )
        }
      })
      return vectors
    },
  }
}

function guardVectorBackend(
  guard: Guard,
  plugin: VectorMemoryBackendPlugin,
  lifecycle: Lifecycle,
): VectorMemoryBackendPlugin {
  return {
    ...base(guard, plugin, lifecycle),
    upsert: (repoId: string, items: VectorItem[], ctx: PluginContext) =>
      guard.call('upsert()', ctx, () => plugin.upsert(repoId, items, ctx)).then(() => undefined),
    async query(
      repoId: string,
      vector: Float32Array,
      topK: number,
      ctx: PluginContext,
      filter?: VectorQueryFilter,
    ): Promise<VectorQueryResult[]> {
      const found = await guard.call('query()', ctx, () => plugin.query(repoId, vector, topK, ctx, filter))
      if (!Array.isArray(found))
        throw guard.wrong('query()', 'query()', `an array is expected, got ${describe(found)}`)
      if (found.length > topK)
        throw guard.wrong('query()', 'query()', `${found.length} results for topK ${topK}`)
      found.forEach((match: unknown, at) => {
        const method = `query()[${at}]`
        const value = guard.object(method, match)
        guard.field(method, value, 'id', 'string', (id) => (id as string).length > 0)
        guard.field(method, value, 'score', 'number', finite)
      })
      return found
    },
    deleteByIds: (repoId: string, ids: string[], ctx: PluginContext) =>
      guard.call('deleteByIds()', ctx, () => plugin.deleteByIds(repoId, ids, ctx)).then(() => undefined),
    wipeRepo: (repoId: string, ctx: PluginContext) =>
      guard.call('wipeRepo()', ctx, () => plugin.wipeRepo(repoId, ctx)).then(() => undefined),
    async info(): Promise<VectorBackendInfo> {
      const info = guard.object('info()', await guard.call('info()', undefined, () => plugin.info()))
      guard.field('info()', info, 'backend', 'string')
      guard.field('info()', info, 'dims', 'number', positiveWhole)
      guard.field('info()', info, 'embedderId', 'string')
      guard.field('info()', info, 'location', 'string', (v) => v === 'local' || v === 'remote')
      guard.field('info()', info, 'supportsFilters', 'boolean')
      return info as unknown as VectorBackendInfo
    },
  }
}

function guardToolExecutor(
  guard: Guard,
  plugin: ToolExecutorPlugin,
  lifecycle: Lifecycle,
): ToolExecutorPlugin {
  return {
    ...base(guard, plugin, lifecycle),
    async execute(request: ToolRunRequest, policy: ToolPolicy, ctx: PluginContext): Promise<ToolRunResult> {
      const result = guard.object(
        'execute()',
        await guard.call('execute()', ctx, () => plugin.execute(request, policy, ctx)),
      )
      guard.field('execute()', result, 'exitCode', 'number', whole)
      guard.field('execute()', result, 'durationMs', 'number', finite)
      guard.field('execute()', result, 'stdoutPath', 'string')
      guard.field('execute()', result, 'stderrPath', 'string')
      guard.field('execute()', result, 'truncated', 'boolean')
      return result as unknown as ToolRunResult
    },
    isAllowed(command: string, policy: ToolPolicy): boolean {
      const allowed = guard.sync('isAllowed()', () => plugin.isAllowed(command, policy))
      if (typeof allowed !== 'boolean')
        throw guard.wrong('isAllowed()', 'isAllowed()', `a boolean is expected, got ${describe(allowed)}`)
      return allowed
    },
  }
}

function guardProvider(
  guard: Guard,
  plugin: ProviderAdapterPlugin,
  lifecycle: Lifecycle,
): ProviderAdapterPlugin {
  const guarded: ProviderAdapterPlugin = {
    ...base(guard, plugin, lifecycle),
    capabilities(): ProviderCapabilities {
      const capabilities = guard.object(
        'capabilities()',
        guard.sync('capabilities()', () => plugin.capabilities()),
      )
      for (const key of ['supportsStreaming', 'supportsToolCalling', 'supportsJsonMode']) {
        guard.field('capabilities()', capabilities, key, 'boolean')
      }
      return capabilities as unknown as ProviderCapabilities
    },
    async generate(req: ModelRequest, ctx: PluginContext): Promise<ModelResponse> {
      const response = guard.object(
        'generate()',
        await guard.call('generate()', ctx, () => plugin.generate(req, ctx)),
      )
      if (response['text'] !== undefined) guard.field('generate()', response, 'text', 'string')
      if (response['toolCalls'] !== undefined && !Array.isArray(response['toolCalls'])) {
        throw guard.wrong(
          'generate()',
          'generate().toolCalls',
          `an array is expected, got ${describe(response['toolCalls'])}`,
        )
      }
      return response as ModelResponse
    },
  }
  const stream = plugin.stream
  if (stream)
    guarded.stream = (req: ModelRequest, ctx: PluginContext): AsyncIterable<StreamEvent> =>
      stream.call(plugin, req, ctx)
  return guarded
}

/** `plugin` (registered as `name`, of `type`) behind the guard. */
export function guarded(name: string, type: string, plugin: SdkPlugin, lifecycle: Lifecycle): SdkPlugin {
  const guard = new Guard(name)
  switch (type) {
    case 'embedder':
      return guardEmbedder(guard, plugin as EmbedderPlugin, lifecycle)
    case 'vector-backend':
      return guardVectorBackend(guard, plugin as VectorMemoryBackendPlugin, lifecycle)
    case 'tool-executor':
      return guardToolExecutor(guard, plugin as ToolExecutorPlugin, lifecycle)
    default:
      return guardProvider(guard, plugin as ProviderAdapterPlugin, lifecycle)
  }
}
