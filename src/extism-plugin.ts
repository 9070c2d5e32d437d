import type { BindingExtismPlugin, BindingHostFunction } from '../binding'
import { withAbort } from './call-options'
import { CallContext } from './extism-call-context'
import { callBinding, callBindingSync, ModelportError } from './errors'
import { binding } from './native-binding'

/**
 * A host function, as in `@extism/extism`: the context, then the import's values (`i64` as
 * `bigint`, `i32`/`f32`/`f64` as `number`); it answers the import's result, or nothing.
 * Async host functions work with `call()`, not `callSync()`.
 */
export type HostFunction = (ctx: CallContext, ...args: any[]) => unknown

/** Host functions by namespace (`extism:host/user` for the PDKs' `host_fn`s) and name. */
export type HostFunctions = Record<string, Record<string, HostFunction>>

/** Sandbox settings of a raw Extism plugin. Everything is denied unless granted here. */
export interface ExtismPluginOptions {
  /** Extism config the plugin reads with `config_get`. */
  config?: Record<string, string>
  /**
   * Hosts the plugin may reach with Extism's `http_request` (every PDK's `http::request`), served
   * by modelport's HTTP engine: `api.example.com`, `*.example.com`, optionally with a scheme and
   * port (`https://api.example.com:443`). Checked on the request and on every redirect hop;
   * anything else fails the call with `HOST_NOT_ALLOWED` before a byte is sent. None by default.
   */
  allowedHosts?: string[]
  /** Host folder → guest path (WASI only), writable by the plugin; prefix the host folder with `ro:` to grant it read-only. */
  allowedPaths?: Record<string, string>
  /** Longest a call may run, in ms (default 30000; 0 = no limit). */
  timeoutMs?: number
  /** Largest linear memory, in 64 KiB pages (default 1024 = 64 MiB); `memory.maxPages` says the same. */
  maxPages?: number
  /** Memory limits, as in an Extism manifest. */
  memory?: {
    /** Largest linear memory, in 64 KiB pages. */
    maxPages?: number
    /** Largest HTTP response body `http_request` accepts (default 64 MiB); larger is `RESPONSE_TOO_LARGE`. */
    maxHttpResponseBytes?: number
    /** Most bytes the plugin's vars may hold together (default 1 MiB). */
    maxVarBytes?: number
  }
  /** Give the plugin WASI (default false). */
  wasi?: boolean
  /**
   * The plugin's WASI stdout and stderr go to this process's stdout and stderr (default false:
   * discarded). Needs `wasi: true` (else `CONFIG_INVALID`).
   */
  enableWasiOutput?: boolean
  /** Compiled-module cache folder (default `$MODELPORT_CACHE_DIR` or the user cache folder). */
  cacheDir?: string
  /**
   * Host functions the module imports. Checked at load: an import nobody provides, or a function
   * declaring another number of parameters than its import (after the context), is
   * `PLUGIN_LOAD_FAILED` naming the import. A function declaring only the context (or rest
   * parameters) takes any number.
   */
  functions?: HostFunctions
  /** Where the plugin's log records (`log_info` … from any PDK) go; default: stderr when `MODELPORT_LOG` is set. */
  logger?: PluginLogger
  /** The lowest level logged (`silent`: none); default `MODELPORT_LOG`'s level, else `info` with a `logger`. */
  logLevel?: LogLevel | 'silent'
}

/** Where a plugin's log records go (a `console` will do). */
export type PluginLogger = Partial<Record<LogLevel, (message: string) => void>>

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error'

/** A module of an Extism manifest: a file or bytes, with the sha256 it must have. */
export type ManifestWasm = ({ path: string } | { data: Uint8Array }) & { hash?: string; name?: string }

/** An Extism manifest (`@extism/extism`'s form): one module, and the plugin's settings. */
export interface Manifest extends Omit<
  ExtismPluginOptions,
  'functions' | 'logger' | 'logLevel' | 'cacheDir'
> {
  wasm: ManifestWasm[]
}

export interface CallOptions {
  /** Aborting interrupts the call (waiting or running, a host function's wait included) and rejects it with `ABORTED`. */
  signal?: AbortSignal
  /** What host functions get from `ctx.hostContext()` during this call. */
  hostContext?: unknown
}

export interface CallSyncOptions {
  /** What host functions get from `ctx.hostContext()` during this call. */
  hostContext?: unknown
}

/** The module and settings an Extism manifest describes. */
function fromManifest(manifest: Manifest): [string | Uint8Array, ExtismPluginOptions & { sha256?: string }] {
  const { wasm, ...settings } = manifest
  if (!Array.isArray(wasm) || wasm.length !== 1) {
    throw new ModelportError({
      code: 'UNSUPPORTED',
      message: `a manifest's wasm must list exactly one module (got ${Array.isArray(wasm) ? wasm.length : typeof wasm}): modelport does not link several modules`,
    })
  }
  const module = wasm[0]!
  const source = 'path' in module ? module.path : 'data' in module ? module.data : undefined
  if (source === undefined) {
    throw new ModelportError({
      code: 'UNSUPPORTED',
      message: `a manifest module must have a path or data (${Object.keys(module).join(', ')} given): modelport does not fetch modules`,
    })
  }
  return [source, { ...settings, ...(module.hash !== undefined && { sha256: module.hash }) }]
}

/** The facade's side of a plugin's host functions: the list for the binding, and the dispatch. */
function hostFunctionsOf(functions: HostFunctions | undefined) {
  const list: BindingHostFunction[] = []
  const code: HostFunction[] = []
  for (const [namespace, names] of Object.entries(functions ?? {})) {
    for (const [name, fn] of Object.entries(names ?? {})) {
      if (typeof fn !== 'function') {
        throw new ModelportError({
          code: 'CONFIG_INVALID',
          message: `functions["${namespace}"]["${name}"] must be a function, not ${typeof fn}`,
        })
      }
      list.push({ namespace, name, declaredParams: fn.length > 1 ? fn.length - 1 : undefined })
      code.push(fn)
    }
  }
  return { list, code }
}

/**
 * Any Extism plugin (made with the official PDKs or by hand), run in-process in the Extism
 * sandbox. One instance: its vars persist between calls, and calls run one at a time. A call that
 * traps, times out, runs out of memory or is aborted discards the instance; the next call gets a
 * fresh one.
 */
export class ExtismPlugin {
  readonly #binding: BindingExtismPlugin
  /** Whether host functions were given (calls then carry an id for their `hostContext`). */
  readonly #hasFunctions: boolean
  /** The `hostContext` of each running call, by call id. */
  readonly #contexts: Map<number, unknown>
  /** What a host function threw during a running call, by call id: the failure's `cause`. */
  readonly #thrown: Map<number, unknown>

  private constructor(
    plugin: BindingExtismPlugin,
    hasFunctions: boolean,
    contexts: Map<number, unknown>,
    thrown: Map<number, unknown>,
  ) {
    this.#binding = plugin
    this.#hasFunctions = hasFunctions
    this.#contexts = contexts
    this.#thrown = thrown
  }

  /**
   * Compiles (through the cache) and instantiates a module from a file path, its bytes, or an
   * Extism manifest (`{ wasm: [{ path | data, hash }], ...settings }`: a `hash` other than the
   * module's sha256 is `PLUGIN_LOAD_FAILED`, before anything is compiled).
   */
  static async load(
    source: string | Uint8Array | Manifest,
    options: ExtismPluginOptions = {},
  ): Promise<ExtismPlugin> {
    const [module, fromSource]: [string | Uint8Array, ExtismPluginOptions & { sha256?: string }] =
      typeof source === 'string' || source instanceof Uint8Array ? [source, {}] : fromManifest(source)
    const { functions, memory, logger, logLevel, ...rest } = { ...fromSource, ...options }
    const settings = {
      ...rest,
      maxPages: memory?.maxPages ?? rest.maxPages,
      maxHttpResponseBytes: memory?.maxHttpResponseBytes,
      maxVarBytes: memory?.maxVarBytes,
    }
    const { list, code } = hostFunctionsOf(functions)
    const contexts = new Map<number, unknown>()
    const thrown = new Map<number, unknown>()
    const record = (callId: number, error: unknown) => {
      thrown.set(callId, error)
      throw error
    }
    let plugin: BindingExtismPlugin | undefined
    const dispatch = (callId: number, index: number, args: unknown[]): unknown => {
      try {
        const value = code[index]!(new CallContext(plugin!, contexts.get(callId)), ...args)
        return value instanceof Promise ? value.catch((error: unknown) => record(callId, error)) : value
      } catch (error) {
        return record(callId, error)
      }
    }
    plugin = await callBinding(() =>
      binding.BindingExtismPlugin.load(
        module,
        settings,
        list.length > 0 ? list : null,
        list.length > 0 ? dispatch : null,
        logger ? (level: string, message: string) => logger[level as LogLevel]?.(message) : null,
        logLevel ?? null,
      ),
    )
    return new ExtismPlugin(plugin, list.length > 0, contexts, thrown)
  }

  /** Ends call `id`'s bookkeeping; a host function's failure gets what it threw as its `cause`. */
  #end(id: number, error?: unknown): unknown {
    this.#contexts.delete(id)
    const thrown = this.#thrown.get(id)
    this.#thrown.delete(id)
    if (error instanceof ModelportError && error.code === 'HOST_FUNCTION_ERROR' && thrown !== undefined) {
      // Its message already tells the thrown error's text; `cause` becomes the error itself.
      return new ModelportError({ ...error.toJSON(), causes: [] }, { cause: thrown })
    }
    return error
  }

  /** Whether the module was found compiled in the on-disk cache when it was loaded (wasmtime's own hit accounting). */
  get compiledFromCache(): boolean {
    return this.#binding.compiledFromCache
  }

  /**
   * Calls `fn` on the JS thread: for tiny, fast calls (no thread hop). Host functions run inline
   * and must answer synchronously. With host functions, a call made while an async `call()` of
   * this plugin runs fails with `UNSUPPORTED` (it would wait for the JS thread it blocks).
   */
  callSync(fn: string, input: string | Uint8Array = '', options: CallSyncOptions = {}): Uint8Array {
    if (!this.#hasFunctions) return callBindingSync(() => this.#binding.callSync(fn, input, null))
    const id = this.#binding.nextCallId()
    this.#contexts.set(id, options.hostContext)
    let output: Uint8Array
    try {
      output = callBindingSync(() => this.#binding.callSync(fn, input, id))
    } catch (error) {
      throw this.#end(id, error)
    }
    this.#end(id)
    return output
  }

  /** Calls `fn` off the JS thread; its host functions run on the JS thread meanwhile. */
  async call(fn: string, input: string | Uint8Array = '', options: CallOptions = {}): Promise<Uint8Array> {
    if (!this.#hasFunctions) {
      return withAbort(fn, options, (call) =>
        callBinding(() => this.#binding.call(fn, input, call?.callId, null)),
      )
    }
    const id = this.#binding.nextCallId()
    this.#contexts.set(id, options.hostContext)
    let output: Uint8Array
    try {
      output = await withAbort(fn, options, (call) =>
        callBinding(() => this.#binding.call(fn, input, call?.callId, id)),
      )
    } catch (error) {
      throw this.#end(id, error)
    }
    this.#end(id)
    return output
  }
  /** The module's exports (`WebAssembly.ModuleExportDescriptor`s). */
  getExports(): { name: string; kind: string }[] {
    return this.#binding.exports().map(({ name, kind }) => ({ name, kind }))
  }

  /** The module's imports (`WebAssembly.ModuleImportDescriptor`s). */
  getImports(): { module: string; name: string; kind: string }[] {
    return this.#binding.imports()
  }

  /** Whether a call is running. */
  isActive(): boolean {
    return this.#binding.isActive()
  }

  /**
   * Discards the instance's memory and vars: the next call gets a fresh instance (its start-up
   * code run again). `false`, and nothing done, while a call runs.
   */
  reset(): boolean {
    return this.#binding.reset()
  }

  /** Whether the module exports `fn`. */
  functionExists(fn: string): boolean {
    return callBindingSync(() => this.#binding.functionExists(fn))
  }

  /** Ends the plugin: a running call is interrupted, later calls fail with `ABORTED`. */
  close(): void {
    this.#binding.close()
  }
}
