import { resolve } from 'node:path'

import type { BindingRegistry } from '../binding'
import { withAbort } from './call-options'
import { callBinding, callBindingSync, errorFromJson } from './errors'
import { binding } from './native-binding'
import { Provider } from './provider'
import { loadEntries } from './sdk/entries'
import { providerAdapter, TS_PROVIDER_SCHEMA } from './sdk/provider-adapter'
import { type RegisteredPluginInfo, RegisteredPlugins, type RegisterOptions } from './sdk/registered'
import type {
  BasePlugin,
  HealthCheckResult,
  PluginConfig,
  PluginExport,
  ProviderAdapterPlugin,
  SdkPlugin,
} from './sdk/types'
import type { JsonSchema, LoadReport, PluginInfo, RegistryConfig, RequestOptions } from './types'

/** Collects builder fields, then builds a provider: static config → API key from env → these fields → schema check. */
export class ProviderBuilder {
  readonly #registry: BindingRegistry
  readonly #name: string
  readonly #sdkPlugin: ProviderAdapterPlugin | undefined
  readonly #fields: Record<string, unknown> = {}

  /** @internal Use `registry.builder(name)`. */
  constructor(registry: BindingRegistry, name: string, sdkPlugin?: ProviderAdapterPlugin) {
    this.#registry = registry
    this.#name = name
    this.#sdkPlugin = sdkPlugin
  }

  /** Sets the model. */
  model(model: string): this {
    return this.parameter('model', model)
  }

  /** Sets the API key (otherwise the static config's, else the `api_key_env` variable's: see `ProviderEntry`). */
  apiKey(key: string): this {
    return this.parameter('api_key', key)
  }

  /** Sets the endpoint root. */
  baseUrl(url: string): this {
    return this.parameter('base_url', url)
  }

  /** Adds a system prompt (several calls add several prompts, in order). */
  system(prompt: string): this {
    const current = this.#fields['system']
    const prompts = Array.isArray(current) ? current : typeof current === 'string' ? [current] : []
    return this.parameter('system', [...prompts, prompt])
  }

  /** Sets any config key the plugin's schema accepts (later calls win). */
  parameter(key: string, value: unknown): this {
    this.#fields[key] = value
    return this
  }

  /** Sets several config keys at once. */
  parameters(values: Record<string, unknown>): this {
    for (const [key, value] of Object.entries(values)) this.parameter(key, value)
    return this
  }

  /** Validates the merged config against the plugin's schema and builds the provider. */
  async build(): Promise<Provider> {
    const provider = await callBinding(() => this.#registry.build(this.#name, this.#fields))
    return new Provider(provider, this.#sdkPlugin)
  }
}

/** The configured plugins, loaded on demand, and the providers built from them. */
export class PluginRegistry {
  readonly #binding: BindingRegistry
  readonly #registered: RegisteredPlugins

  private constructor(registry: BindingRegistry) {
    this.#binding = registry
    // A provider plugin is served by the core like a configured provider: builder(name).build().
    this.#registered = new RegisteredPlugins((name, plugin, manifest, context) => {
      if (manifest.type !== 'provider') return
      const adapter = providerAdapter(plugin as ProviderAdapterPlugin, context)
      const settle = callBindingSync(() =>
        registry.registerProvider(
          name,
          manifest.name,
          manifest.version ?? null,
          TS_PROVIDER_SCHEMA,
          adapter.generate,
          adapter.streamStart,
          adapter.streamNext,
          adapter.abort,
        ),
      )
      adapter.connect(settle)
    })
  }

  /** Reads a `.toml`, `.json`, `.yaml` or `.yml` config; relative plugin paths resolve against its folder. */
  static async fromFile(path: string): Promise<PluginRegistry> {
    return new PluginRegistry(await callBinding(() => binding.BindingRegistry.fromFile(resolve(path))))
  }

  /** Uses an in-memory config; relative plugin paths resolve against `baseDir` (default: the working directory). */
  static async fromConfig(
    config: RegistryConfig,
    options: { baseDir?: string } = {},
  ): Promise<PluginRegistry> {
    const baseDir = resolve(options.baseDir ?? process.cwd())
    return new PluginRegistry(await callBinding(() => binding.BindingRegistry.fromConfig(config, baseDir)))
  }

  /** Loads every plugin — the providers, then the `[[plugins]]` entries (seed 004 plugins, whose
   * `init` runs); one failure does not stop the others. */
  async loadAll(): Promise<LoadReport[]> {
    const reports = await callBinding(() => this.#binding.loadAll())
    const providers = reports.map(({ error, ...rest }) =>
      error ? { ...rest, error: errorFromJson(error) } : rest,
    )
    const entries = callBindingSync(() => this.#binding.pluginEntries())
    const providerNames = new Set(providers.map((report) => report.name))
    return [...providers, ...(await loadEntries(entries, this.#registered, providerNames))]
  }

  /** The loaded plugins, in config order. */
  list(): PluginInfo[] {
    return callBindingSync(() => this.#binding.list())
  }

  /** A loaded plugin's config JSON Schema. */
  configSchema(name: string): JsonSchema {
    return callBindingSync(() => this.#binding.configSchema(name))
  }

  /** The models a provider offers (with `config` merged into its static config). */
  async listModels(
    name: string,
    options: RequestOptions & { config?: Record<string, unknown> } = {},
  ): Promise<string[]> {
    return withAbort('listModels', options, (call) =>
      callBinding(() => this.#binding.listModels(name, options.config ?? null, call)),
    )
  }

  /** A builder for a provider of plugin `name` (loaded on first use if `loadAll` was not called). */
  builder(name: string): ProviderBuilder {
    const sdkPlugin = this.#registered.has(name)
      ? (this.#registered.get(name) as ProviderAdapterPlugin)
      : undefined
    return new ProviderBuilder(this.#binding, name, sdkPlugin)
  }

  /**
   * Adds a `modelport/sdk` plugin (seed 004: provider, embedder, vector backend, tool executor)
   * running in this process: every check of `loadPlugin`, then its `init(config)`. Its name (the
   * manifest's, or `options.name`) must be free in this registry.
   */
  async register<T extends BasePlugin>(
    pluginExport: PluginExport<T>,
    config: PluginConfig = {},
    options: RegisterOptions = {},
  ): Promise<T> {
    const configured = new Set(callBindingSync(() => this.#binding.names()))
    return this.#registered.register(pluginExport, config, options, (name) => configured.has(name))
  }

  /** The registered SDK plugin `name` (`PLUGIN_NOT_FOUND` if there is none). */
  plugin<T extends SdkPlugin = SdkPlugin>(name: string): T {
    return this.#registered.get(name) as T
  }

  /** The registered SDK plugins, in registration order. */
  plugins(): RegisteredPluginInfo[] {
    return this.#registered.list()
  }

  /** The `healthCheck` of every registered SDK plugin (or of `name`), each bounded by its
   * `lifecycleTimeoutMs`: a check that throws or hangs is `healthy: false`, saying why. */
  async health(name?: string): Promise<Record<string, HealthCheckResult>> {
    return this.#registered.health(name)
  }

  /** Ends calls in flight with `ABORTED`, refuses new ones, and shuts the registered SDK plugins
   * down (each bounded: a hanging `shutdown` cannot hang `close`). */
  async close(): Promise<void> {
    this.#binding.close()
    await this.#registered.close()
  }
}
