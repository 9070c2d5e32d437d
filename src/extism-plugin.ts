import type { BindingExtismPlugin } from '../binding'
import { withAbort } from './call-options'
import { callBinding, callBindingSync } from './errors'
import { binding } from './native-binding'

/** Sandbox settings of a raw Extism plugin. Everything is denied unless granted here. */
export interface ExtismPluginOptions {
  /** Extism config the plugin reads with `config_get`. */
  config?: Record<string, string>
  /** Hosts reachable through modelport's HTTP host functions (none by default). */
  allowedHosts?: string[]
  /** Host folder → guest path (WASI only), writable by the plugin; read-only `ro:` grants are refused (UNSUPPORTED). */
  allowedPaths?: Record<string, string>
  /** Longest a call may run, in ms (default 30000; 0 = no limit). */
  timeoutMs?: number
  /** Largest linear memory, in 64 KiB pages (default 1024 = 64 MiB). */
  maxPages?: number
  /** Give the plugin WASI (default false). */
  wasi?: boolean
  /** Compiled-module cache folder (default `$MODELPORT_CACHE_DIR` or the user cache folder). */
  cacheDir?: string
}

export interface CallOptions {
  /** Aborting interrupts the call (waiting or running) and rejects it with `ABORTED`. */
  signal?: AbortSignal
}

/**
 * Any Extism plugin (made with the official PDKs or by hand), run in-process in the Extism
 * sandbox. One instance: its vars persist between calls, and calls run one at a time. A call that
 * traps, times out, runs out of memory or is aborted discards the instance; the next call gets a
 * fresh one.
 */
export class ExtismPlugin {
  readonly #binding: BindingExtismPlugin

  private constructor(plugin: BindingExtismPlugin) {
    this.#binding = plugin
  }

  /** Compiles (through the on-disk cache) and instantiates a module from a file path or its bytes. */
  static async load(source: string | Uint8Array, options: ExtismPluginOptions = {}): Promise<ExtismPlugin> {
    return new ExtismPlugin(await callBinding(() => binding.BindingExtismPlugin.load(source, options)))
  }

  /** Whether the module was found compiled in the on-disk cache when it was loaded (wasmtime's own hit accounting). */
  get compiledFromCache(): boolean {
    return this.#binding.compiledFromCache
  }

  /** Calls `fn` on the JS thread: for tiny, fast calls (no thread hop). */
  callSync(fn: string, input: string | Uint8Array = ''): Uint8Array {
    return callBindingSync(() => this.#binding.callSync(fn, input))
  }

  /** Calls `fn` off the JS thread. */
  async call(fn: string, input: string | Uint8Array = '', options: CallOptions = {}): Promise<Uint8Array> {
    return withAbort(fn, options, (call) => callBinding(() => this.#binding.call(fn, input, call?.callId)))
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
