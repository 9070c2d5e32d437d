// Native and Wasm plugins of seed 004's other kinds (embedder, vector backend, tool executor: a
// library exporting `plugin_sdk_factory`, or an Extism module with the kind's JSON exports) as
// `PluginExport`s: the core loads them and checks their manifest, and the registry then treats
// them like TypeScript plugins (the one config check, init, the guard, bounded health and
// shutdown).
import type { BindingSdkEmbedder, BindingSdkToolExecutor, BindingToolPolicy } from '../../binding'
import { callBindingSync, ModelportError } from '../errors'
import { binding } from '../native-binding'
import { CorePlugin, withSignal } from './core-plugin'
import { manifestOf } from './load'
import { CoreVectorBackend } from './sqlite-vectors'
import type {
  EmbedderPlugin,
  PluginContext,
  PluginExport,
  SdkPlugin,
  ToolExecutorPlugin,
  ToolPolicy,
  ToolRunRequest,
  ToolRunResult,
} from './types'

class RuntimeEmbedder extends CorePlugin<BindingSdkEmbedder> implements EmbedderPlugin {
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

class RuntimeToolExecutor extends CorePlugin<BindingSdkToolExecutor> implements ToolExecutorPlugin {
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
        return new RuntimeEmbedder(manifest.name, sdkVersion, (config) => factory.initEmbedder(config))
      case 'vector-backend':
        return new CoreVectorBackend(manifest.name, sdkVersion, (config) => factory.initVectorBackend(config))
      case 'tool-executor':
        return new RuntimeToolExecutor(manifest.name, sdkVersion, (config) =>
          factory.initToolExecutor(config),
        )
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
