// Native and Wasm plugins of seed 004's other kinds (embedder, vector backend, tool executor: a
// library exporting `plugin_sdk_factory`, or an Extism module with the kind's JSON exports) as
// `PluginExport`s: the core loads them and checks their manifest, and the registry then treats
// them like TypeScript plugins (the one config check, init, the guard, bounded health and
// shutdown).
import type {
  BindingSdkEmbedder,
  BindingSdkToolExecutor,
  BindingSdkFactory,
  BindingToolPolicy,
} from '../../binding'
import { CallAbort } from '../call-options'
import { callBinding, callBindingSync, ModelportError } from '../errors'
import { binding } from '../native-binding'
import { manifestOf } from './load'
import { CoreVectorBackend } from './sqlite-vectors'
import type {
  EmbedderPlugin,
  HealthCheckResult,
  PluginConfig,
  PluginContext,
  PluginExport,
  SdkPlugin,
  SdkVersionRange,
  ToolExecutorPlugin,
  ToolPolicy,
  ToolRunRequest,
  ToolRunResult,
} from './types'

/** Runs a plugin call with `ctx.abortSignal` wired to the core (an abort stops the plugin's call). */
async function withSignal<T>(
  ctx: PluginContext | undefined,
  what: string,
  run: (callId: number | undefined) => Promise<T> | T,
): Promise<T> {
  const abort = new CallAbort(ctx?.abortSignal)
  try {
    abort.throwIfAborted(what)
    return await callBinding(() => run(abort.callId))
  } finally {
    abort.end()
  }
}

/** What the lifecycle of a native or Wasm plugin shares: health and shutdown through the binding. */
abstract class RuntimePlugin<Instance extends { healthCheck(): unknown; shutdown(): unknown }> {
  readonly name: string
  readonly sdkVersion: SdkVersionRange
  protected readonly factory: BindingSdkFactory
  #instance: Instance | undefined

  constructor(name: string, sdkVersion: SdkVersionRange, factory: BindingSdkFactory) {
    this.name = name
    this.sdkVersion = sdkVersion
    this.factory = factory
  }

  protected abstract make(config: PluginConfig): Instance

  async init(config: PluginConfig, _ctx: PluginContext): Promise<void> {
    this.#instance = callBindingSync(() => this.make(config))
  }

  protected get instance(): Instance {
    if (!this.#instance) {
      throw new ModelportError({
        code: 'ABORTED',
        plugin: this.name,
        message: 'the plugin is not initialised',
      })
    }
    return this.#instance
  }

  async healthCheck(): Promise<HealthCheckResult> {
    if (!this.#instance) return { healthy: false, message: 'not initialised' }
    const instance = this.#instance
    const health = (await callBinding(() => instance.healthCheck())) as { healthy: boolean; message: string }
    return { healthy: health.healthy, message: health.message }
  }

  async shutdown(): Promise<void> {
    const instance = this.#instance
    this.#instance = undefined
    if (instance) await callBinding(() => instance.shutdown())
  }
}

class RuntimeEmbedder extends RuntimePlugin<BindingSdkEmbedder> implements EmbedderPlugin {
  protected make(config: PluginConfig): BindingSdkEmbedder {
    return this.factory.initEmbedder(config)
  }

  dims(): number {
    const instance = this.instance
    return callBindingSync(() => instance.dims())
  }

  async embedTexts(texts: string[], ctx: PluginContext): Promise<number[][]> {
    const instance = this.instance
    const vectors = await withSignal(ctx, 'embedTexts()', (callId) => instance.embedTexts(texts, callId))
    return vectors.map((vector) => Array.from(vector))
  }
}

/** A `ToolPolicy` in the binding's shape. */
function policyOf(policy: ToolPolicy): BindingToolPolicy {
  return { ...policy }
}

class RuntimeToolExecutor extends RuntimePlugin<BindingSdkToolExecutor> implements ToolExecutorPlugin {
  protected make(config: PluginConfig): BindingSdkToolExecutor {
    return this.factory.initToolExecutor(config)
  }

  async execute(request: ToolRunRequest, policy: ToolPolicy, ctx: PluginContext): Promise<ToolRunResult> {
    const instance = this.instance
    const result = await withSignal(ctx, 'execute()', (callId) =>
      instance.execute({ ...request }, policyOf(policy), callId),
    )
    const { signal, ...rest } = result
    return signal == null ? rest : { ...rest, signal }
  }

  isAllowed(command: string, policy: ToolPolicy): boolean {
    const instance = this.instance
    return callBindingSync(() => instance.isAllowed(command, policyOf(policy)))
  }
}

/** Where a plugin's code runs. */
export type PluginRuntime = 'ts' | 'native' | 'wasm'

/** The `PluginExport` of the native or Wasm SDK plugin at `path` (registered as `name`). */
export function runtimePluginExport(name: string, path: string, runtime: 'native' | 'wasm'): PluginExport {
  const factory = callBindingSync(() => binding.BindingSdkFactory.open(name, path))
  const manifest = manifestOf(factory.manifest())
  const { sdkVersion } = manifest
  const createPlugin = (): SdkPlugin => {
    switch (manifest.type) {
      case 'embedder':
        return new RuntimeEmbedder(manifest.name, sdkVersion, factory)
      case 'vector-backend':
        return new CoreVectorBackend(manifest.name, sdkVersion, (config) => factory.initVectorBackend(config))
      case 'tool-executor':
        return new RuntimeToolExecutor(manifest.name, sdkVersion, factory)
      default:
        throw new ModelportError({
          code: 'UNSUPPORTED',
          plugin: name,
          path,
          message: `a ${runtime} ${manifest.type} plugin is loaded from [[providers]], not [[plugins]]`,
        })
    }
  }
  const pluginExport = { manifest, createPlugin }
  runtimes.set(pluginExport, runtime)
  return pluginExport
}

const runtimes = new WeakMap<object, PluginRuntime>()

/** Where a plugin export's code runs: a native library, a Wasm module, or this Node process. */
export function runtimeOf(pluginExport: object): PluginRuntime {
  return runtimes.get(pluginExport) ?? 'ts'
}
