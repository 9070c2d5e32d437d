// Seed 004's `loadPlugin` / `safeLoadPlugin`: check a plugin export (its manifest through the
// core's one manifest check, then its shape), create the plugin and run its `init`, bounded.
import { randomUUID } from 'node:crypto'

import type { BindingPluginManifest } from '../../binding'
import { bindingErrorInfo, callBindingSync, fromBindingError, ModelportError } from '../errors'
import { binding } from '../native-binding'
import { PluginValidationError, PluginVersionMismatchError } from './errors'
import type {
  BasePlugin,
  PluginConfig,
  PluginContext,
  PluginExport,
  PluginManifest,
  PluginType,
  SdkPlugin,
  SdkVersionRange,
} from './types'

/** The plugin SDK version this modelport implements. */
export const SDK_VERSION: number = binding.SDK_VERSION

/** How long `init` may take by default. */
export const DEFAULT_INIT_TIMEOUT_MS = 30_000

export interface LoadPluginOptions {
  /** `init` must settle within this many ms (default 30 s), else `PLUGIN_TIMEOUT`. */
  initTimeoutMs?: number
}

/** The methods each plugin type must have, besides the lifecycle. */
const METHODS: Record<PluginType, readonly string[]> = {
  provider: ['capabilities', 'generate'],
  embedder: ['dims', 'embedTexts'],
  'vector-backend': ['upsert', 'query', 'deleteByIds', 'wipeRepo', 'info'],
  'tool-executor': ['execute', 'isAllowed'],
}
const LIFECYCLE = ['init', 'healthCheck', 'shutdown'] as const

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`
}

/** A manifest the core checked, as the SDK's type. */
export function manifestOf(checked: BindingPluginManifest): PluginManifest {
  const range: SdkVersionRange = { minVersion: checked.sdkVersion.minVersion }
  if (checked.sdkVersion.maxVersion != null) range.maxVersion = checked.sdkVersion.maxVersion
  const result: PluginManifest = { name: checked.name, type: checked.type, sdkVersion: range }
  if (checked.version != null) result.version = checked.version
  if (checked.description != null) result.description = checked.description
  if (checked.configSchema != null) result.configSchema = checked.configSchema
  return result
}

/** The core's manifest check; its errors as the SDK's classes. */
export function checkManifest(manifest: unknown): PluginManifest {
  try {
    return manifestOf(binding.validateManifest(manifest))
  } catch (error) {
    const info = bindingErrorInfo(error)
    if (info?.code === 'SDK_VERSION_MISMATCH') {
      const { sdkVersion } = manifest as { sdkVersion: SdkVersionRange }
      const { code: _code, ...rest } = info
      throw new PluginVersionMismatchError(rest, { ...sdkVersion }, SDK_VERSION)
    }
    if (info?.code === 'PLUGIN_INVALID') {
      const { code: _code, ...rest } = info
      throw new PluginValidationError(rest)
    }
    throw fromBindingError(error)
  }
}

/** The plugin's own shape: its name, its SDK range (checked like the manifest's) and the
 * methods its type needs. */
function checkShape(plugin: unknown, manifest: PluginManifest): asserts plugin is SdkPlugin {
  const name = manifest.name
  if (!isObject(plugin)) {
    throw new PluginValidationError({
      plugin: name,
      message: `createPlugin() must return the plugin object, got ${describe(plugin)}`,
    })
  }
  const missing = [...LIFECYCLE, ...METHODS[manifest.type]].filter(
    (method) => typeof plugin[method] !== 'function',
  )
  if (missing.length > 0) {
    throw new PluginValidationError({
      plugin: name,
      message: `a ${manifest.type} plugin needs the method${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
      jsonPath: missing[0]!,
    })
  }
  if (plugin['sdkVersion'] !== undefined) {
    // The plugin object's own range (the seed's `readonly sdkVersion`) must admit this SDK too.
    try {
      checkManifest({ name, type: manifest.type, sdkVersion: plugin['sdkVersion'] })
    } catch (error) {
      if (!(error instanceof PluginValidationError)) throw error
      throw new PluginValidationError({
        plugin: name,
        message: `the plugin object's sdkVersion is not a valid range (${error.message})`,
        jsonPath: 'sdkVersion',
      })
    }
  }
}

function defaultContext(name: string): PluginContext {
  return {
    runId: randomUUID(),
    logger: {
      log(event) {
        if (process.env['MODELPORT_LOG']) console.error(`modelport plugin ${name}: ${event.message}`)
      },
    },
  }
}

/** Runs `work`, rejecting with `PLUGIN_TIMEOUT` after `ms` and with `ABORTED` when `signal` aborts. */
export async function bounded<T>(
  work: Promise<T>,
  ms: number,
  what: string,
  plugin: string,
  signal?: AbortSignal,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  let onAbort: (() => void) | undefined
  const limits = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new ModelportError({
            code: 'PLUGIN_TIMEOUT',
            plugin,
            message: `${what} did not settle within ${ms} ms`,
          }),
        ),
      ms,
    )
    if (signal) {
      onAbort = () => reject(new ModelportError({ code: 'ABORTED', plugin, message: `${what} was aborted` }))
      if (signal.aborted) onAbort()
      else signal.addEventListener('abort', onAbort, { once: true })
    }
  })
  try {
    return await Promise.race([work, limits])
  } finally {
    clearTimeout(timer)
    if (onAbort) signal?.removeEventListener('abort', onAbort)
  }
}

function failedIn(step: string, plugin: string, error: unknown): ModelportError {
  if (error instanceof ModelportError) return error
  const message = error instanceof Error ? error.message : String(error)
  return new ModelportError(
    { code: 'PLUGIN_LOAD_FAILED', plugin, message: `${step} failed`, causes: [message] },
    { cause: error },
  )
}

/**
 * Checks a plugin export (manifest, SDK version range, shape), creates the plugin and runs its
 * `init(config, ctx)` (bounded by `initTimeoutMs`, stopped by `ctx.abortSignal`). Throws
 * `PluginValidationError` (`PLUGIN_INVALID`), `PluginVersionMismatchError`
 * (`SDK_VERSION_MISMATCH`), or a `ModelportError` (`PLUGIN_LOAD_FAILED` when `createPlugin` or
 * `init` throws, `PLUGIN_TIMEOUT`, `ABORTED`).
 */
export async function loadPlugin<T extends BasePlugin = SdkPlugin>(
  pluginExport: PluginExport<T>,
  config: PluginConfig = {},
  ctx: Partial<PluginContext> = {},
  options: LoadPluginOptions = {},
): Promise<T> {
  return (await initPlugin(pluginExport, checkExport(pluginExport), config, ctx, options)).plugin
}

/** The export's own checks, before any plugin code runs: its shape and its manifest. */
export function checkExport(pluginExport: PluginExport<BasePlugin>): PluginManifest {
  if (!isObject(pluginExport)) {
    throw new PluginValidationError({
      message: `a plugin export is { manifest, createPlugin }, got ${describe(pluginExport)}`,
    })
  }
  const manifest = checkManifest((pluginExport as { manifest?: unknown }).manifest ?? null)
  if (typeof pluginExport.createPlugin !== 'function') {
    throw new PluginValidationError({
      plugin: manifest.name,
      message: `the plugin export's createPlugin must be a function, got ${describe(pluginExport.createPlugin)}`,
      jsonPath: 'createPlugin',
    })
  }
  return manifest
}

/** Creates the plugin of an export `checkExport` passed, checks its shape and runs its `init`. */
export async function initPlugin<T extends BasePlugin>(
  pluginExport: PluginExport<T>,
  manifest: PluginManifest,
  config: PluginConfig,
  ctx: Partial<PluginContext>,
  options: LoadPluginOptions,
): Promise<{ plugin: T; manifest: PluginManifest; context: PluginContext }> {
  const name = manifest.name
  if (!isObject(config)) {
    throw new PluginValidationError({
      plugin: name,
      message: `the config must be an object, got ${describe(config)}`,
    })
  }
  if (manifest.configSchema) callBindingSync(() => binding.checkPluginConfig({ ...manifest }, config))
  let plugin: unknown
  try {
    plugin = await pluginExport.createPlugin()
  } catch (error) {
    throw failedIn('createPlugin()', name, error)
  }
  checkShape(plugin, manifest)
  const context: PluginContext = { ...defaultContext(name), ...ctx }
  try {
    await bounded(
      Promise.resolve().then(() => (plugin as SdkPlugin).init(config, context)),
      options.initTimeoutMs ?? DEFAULT_INIT_TIMEOUT_MS,
      'init()',
      name,
      context.abortSignal,
    )
  } catch (error) {
    throw failedIn('init()', name, error)
  }
  return { plugin: plugin as unknown as T, manifest, context }
}

/** What `safeLoadPlugin` answers. */
export interface SafeLoadResult<T extends BasePlugin = SdkPlugin> {
  success: boolean
  plugin?: T
  /** The checked manifest, when it was valid. */
  manifest?: PluginManifest
  error?: ModelportError
}

/** `loadPlugin` that never throws: `{ success, plugin, manifest, error }`. */
export async function safeLoadPlugin<T extends BasePlugin = SdkPlugin>(
  pluginExport: PluginExport<T>,
  config: PluginConfig = {},
  ctx: Partial<PluginContext> = {},
  options: LoadPluginOptions = {},
): Promise<SafeLoadResult<T>> {
  let manifest: PluginManifest
  try {
    manifest = checkExport(pluginExport)
  } catch (error) {
    return { success: false, error: asModelportError(error) }
  }
  try {
    const { plugin } = await initPlugin(pluginExport, manifest, config, ctx, options)
    return { success: true, plugin, manifest }
  } catch (error) {
    return { success: false, manifest, error: asModelportError(error) }
  }
}

function asModelportError(error: unknown): ModelportError {
  return error instanceof ModelportError
    ? error
    : new ModelportError({ code: 'PLUGIN_LOAD_FAILED', message: String(error) }, { cause: error })
}
