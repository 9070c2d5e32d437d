import type { BindingExtismPlugin } from '../binding'
import { callBindingSync } from './errors'

/** Bytes from plugin memory or a var, read as `@extism/extism`'s `PluginOutput` is. */
export class PluginOutput extends DataView<ArrayBufferLike> {
  static readonly #decoder = new TextDecoder()

  /** @internal */
  constructor(bytes: Uint8Array) {
    super(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  /** The bytes (a view, not a copy). */
  bytes(): Uint8Array {
    return new Uint8Array(this.buffer, this.byteOffset, this.byteLength)
  }

  /** The bytes as UTF-8 text. */
  text(): string {
    return PluginOutput.#decoder.decode(this.bytes())
  }

  /** The bytes as UTF-8 text (`@extism/extism`'s name for `text()`). */
  string(): string {
    return this.text()
  }

  /** The text parsed as JSON. */
  json(): any {
    return JSON.parse(this.text())
  }

  /** The bytes' buffer. */
  arrayBuffer(): ArrayBufferLike {
    return this.bytes().slice().buffer
  }
}

const encoder = new TextEncoder()
const bytesOf = (value: string | Uint8Array) => (typeof value === 'string' ? encoder.encode(value) : value)

/**
 * What a host function gets as its first argument, as in `@extism/extism`: the calling plugin's
 * memory, vars and error, and the call's `hostContext`. It works while its host function runs
 * (until its promise settles); used later, it throws.
 */
export class CallContext {
  readonly #plugin: BindingExtismPlugin
  readonly #hostContext: unknown

  /** @internal */
  constructor(plugin: BindingExtismPlugin, hostContext: unknown) {
    this.#plugin = plugin
    this.#hostContext = hostContext
  }

  /** The `hostContext` the call was made with (`call(fn, input, { hostContext })`). */
  hostContext<T = unknown>(): T {
    return this.#hostContext as T
  }

  /** The memory block at `offset`, or `null` if none starts there. */
  read(offset: bigint | number): PluginOutput | null {
    const bytes = callBindingSync(() => this.#plugin.hostRead(BigInt(offset)))
    return bytes ? new PluginOutput(bytes) : null
  }

  /** Copies a string (UTF-8) or bytes into a new memory block; answers its offset. */
  store(value: string | Uint8Array): bigint {
    return callBindingSync(() => this.#plugin.hostStore(bytesOf(value)))
  }

  /** A new zeroed memory block of `length` bytes; answers its offset. */
  alloc(length: bigint | number): bigint {
    return callBindingSync(() => this.#plugin.hostAlloc(BigInt(length)))
  }

  /** The length of the block at `offset` (0n if none starts there). */
  length(offset: bigint | number): bigint {
    return callBindingSync(() => this.#plugin.hostLength(BigInt(offset)))
  }

  /** The plugin's var `name`, or `null`. */
  getVariable(name: string): PluginOutput | null {
    const bytes = callBindingSync(() => this.#plugin.hostGetVar(name))
    return bytes ? new PluginOutput(bytes) : null
  }

  /** Sets the plugin's var `name` (within its var budget, `memory.maxVarBytes`). */
  setVariable(name: string, value: string | Uint8Array): void {
    callBindingSync(() => this.#plugin.hostSetVar(name, bytesOf(value)))
  }

  /** Removes the plugin's var `name`. */
  deleteVariable(name: string): void {
    callBindingSync(() => this.#plugin.hostDeleteVar(name))
  }

  /** Fails the call with `error` once the plugin's function returns. */
  setError(error: string | Error): void {
    callBindingSync(() => this.#plugin.hostSetError(error instanceof Error ? error.message : error))
  }
}
