// The SDK plugins a registry holds (`registry.register(pluginExport, config)`): loaded through
// `loadPlugin`, health-checked and shut down with bounds, so a hanging plugin cannot hang the
// registry.
import { ModelportError } from '../errors'
import { guarded } from './guarded'
import { bounded, checkExport, initPlugin, type LoadPluginOptions } from './load'
import { runtimeOf, type PluginRuntime } from './runtime-plugins'
import type {
  BasePlugin,
  HealthCheckResult,
  PluginConfig,
  PluginContext,
  PluginExport,
  PluginManifest,
  SdkPlugin,
} from './types'

/** How long `healthCheck` and `shutdown` may take by default. */
export const DEFAULT_LIFECYCLE_TIMEOUT_MS = 10_000

export interface RegisterOptions extends LoadPluginOptions {
  /** The name to register under (default: the manifest's). */
  name?: string
  /** The context the plugin's `init` receives (a run id and a logger by default). */
  ctx?: Partial<PluginContext>
  /** Bound of each `healthCheck` and of `shutdown` (default 10 s). */
  lifecycleTimeoutMs?: number
}

/** What `registry.plugins()` tells of a registered plugin. */
export interface RegisteredPluginInfo {
  name: string
  manifest: PluginManifest
  /** Where its code runs: `ts` (in this Node process), `native` (a library) or `wasm` (an
   * Extism module, in the sandbox). */
  runtime: PluginRuntime
}

interface Entry {
  plugin: SdkPlugin
  /** What `registry.plugin(name)` hands out: the plugin behind the guard. */
  guarded: SdkPlugin
  manifest: PluginManifest
  runtime: PluginRuntime
  timeoutMs: number
}

/** Called once a plugin is loaded, before it joins: a provider plugin is handed to the core here. */
export type OnLoaded = (
  name: string,
  plugin: SdkPlugin,
  manifest: PluginManifest,
  context: PluginContext,
) => void

/** The registered SDK plugins of one registry, by name. */
/** `plugin.healthCheck()`, bounded: a check that throws, answers malformed or does not settle
 * in time is `healthy: false` saying why. */
async function checkHealth(name: string, plugin: BasePlugin, timeoutMs: number): Promise<HealthCheckResult> {
  try {
    const result = await bounded(
      Promise.resolve().then(() => plugin.healthCheck()),
      timeoutMs,
      'healthCheck()',
      name,
    )
    if (typeof result?.healthy !== 'boolean') {
      return { healthy: false, message: 'healthCheck() answered without a boolean `healthy`' }
    }
    return result
  } catch (error) {
    return { healthy: false, message: error instanceof Error ? error.message : String(error) }
  }
}

export class RegisteredPlugins {
  readonly #entries = new Map<string, Entry>()
  /** Names being registered (their init running). */
  readonly #pending = new Set<string>()
  readonly #onLoaded: OnLoaded
  #closed = false

  constructor(onLoaded: OnLoaded) {
    this.#onLoaded = onLoaded
  }

  /** Loads `pluginExport` (every check of `loadPlugin`, then `init`) and keeps it under its name. */
  async register<T extends BasePlugin>(
    pluginExport: PluginExport<T>,
    config: PluginConfig,
    options: RegisterOptions,
    taken: (name: string) => boolean,
  ): Promise<T> {
    if (this.#closed) throw new ModelportError({ code: 'ABORTED', message: 'the registry is closed' })
    // The name is settled before any plugin code runs: a clash never initialises a plugin.
    const checked = checkExport(pluginExport)
    const name = options.name ?? checked.name
    if (this.#entries.has(name) || this.#pending.has(name) || taken(name)) {
      throw new ModelportError({
        code: 'CONFIG_INVALID',
        plugin: name,
        message: `a plugin named '${name}' is already in this registry`,
      })
    }
    this.#pending.add(name)
    let loaded
    try {
      loaded = await initPlugin(pluginExport, checked, config, options.ctx ?? {}, options)
    } finally {
      this.#pending.delete(name)
    }
    const { plugin, manifest, context } = loaded
    if (this.#closed) {
      // Closed while it initialised: it never joins, and is shut down like the rest.
      await this.#discard(plugin, name, options)
      throw new ModelportError({
        code: 'ABORTED',
        plugin: name,
        message: 'the registry was closed during init()',
      })
    }
    try {
      this.#onLoaded(name, plugin as unknown as SdkPlugin, manifest, context)
    } catch (error) {
      await this.#discard(plugin, name, options)
      throw error
    }
    const timeoutMs = this.#timeout(options)
    const lifecycle = {
      healthCheck: () => checkHealth(name, plugin, timeoutMs),
      shutdown: () =>
        bounded(
          Promise.resolve().then(() => plugin.shutdown()),
          timeoutMs,
          'shutdown()',
          name,
        ),
    }
    const sdkPlugin = plugin as unknown as SdkPlugin
    const entry = {
      plugin: sdkPlugin,
      guarded: guarded(name, manifest.type, sdkPlugin, lifecycle),
      manifest,
      runtime: runtimeOf(pluginExport),
      timeoutMs,
    }
    this.#entries.set(name, entry)
    return entry.guarded as unknown as T
  }

  /** Shuts down a plugin that will not join, bounded, ignoring its failure. */
  async #discard(plugin: BasePlugin, name: string, options: RegisterOptions): Promise<void> {
    await bounded(
      Promise.resolve().then(() => plugin.shutdown()),
      this.#timeout(options),
      'shutdown()',
      name,
    ).catch(() => {})
  }

  #timeout(options: RegisterOptions): number {
    return options.lifecycleTimeoutMs ?? DEFAULT_LIFECYCLE_TIMEOUT_MS
  }

  has(name: string): boolean {
    return this.#entries.has(name)
  }

  /** The plugin registered as `name`, behind the guard; `PLUGIN_NOT_FOUND` otherwise. */
  get(name: string): SdkPlugin {
    const entry = this.#entries.get(name)
    if (!entry) {
      throw new ModelportError({
        code: 'PLUGIN_NOT_FOUND',
        plugin: name,
        message: `no plugin named '${name}' was registered`,
      })
    }
    return entry.guarded
  }

  list(): RegisteredPluginInfo[] {
    return [...this.#entries].map(([name, { manifest, runtime }]) => ({ name, manifest, runtime }))
  }

  /** Each plugin's `healthCheck` (or only `name`'s), bounded: a check that throws, answers
   * malformed or does not settle in time is `healthy: false` saying why. */
  async health(name?: string): Promise<Record<string, HealthCheckResult>> {
    const names = name === undefined ? [...this.#entries.keys()] : [name]
    const results = await Promise.all(
      names.map(async (each): Promise<[string, HealthCheckResult]> => {
        const entry = this.#entries.get(each)
        if (!entry) this.get(each) // throws PLUGIN_NOT_FOUND
        return [each, await checkHealth(each, entry!.plugin, entry!.timeoutMs)]
      }),
    )
    return Object.fromEntries(results)
  }

  /** Shuts every plugin down, each bounded; a failing or hanging `shutdown` is logged and left. */
  async close(): Promise<void> {
    this.#closed = true
    const entries = [...this.#entries]
    this.#entries.clear()
    await Promise.all(
      entries.map(async ([name, { plugin, timeoutMs }]) => {
        try {
          await bounded(
            Promise.resolve().then(() => plugin.shutdown()),
            timeoutMs,
            'shutdown()',
            name,
          )
        } catch (error) {
          if (process.env['MODELPORT_LOG']) {
            console.error(
              `modelport: plugin ${name}: ${error instanceof Error ? error.message : String(error)}`,
            )
          }
        }
      }),
    )
  }
}
