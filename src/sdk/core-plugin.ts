// What the SDK plugins the Rust core runs share on the TypeScript side (the shipped vector store,
// native and Wasm plugins): an instance made by `init` through the binding, health and shutdown
// through it, and calls with `ctx.abortSignal` wired to the core's cancellation.
import { CallAbort } from '../call-options'
import { callBinding, callBindingSync, ModelportError } from '../errors'
import type { HealthCheckResult, PluginConfig, PluginContext, SdkVersionRange } from './types'

/** What every binding instance of such a plugin answers. */
interface BindingInstance {
  healthCheck(): { healthy: boolean; message: string } | Promise<{ healthy: boolean; message: string }>
  shutdown(): void | Promise<void>
}

/** Runs a plugin call with `ctx.abortSignal` wired to the core (an abort stops the plugin's call:
 * a native task released, a Wasm call interrupted, a store write rolled back). */
export async function withSignal<T>(
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

/** A plugin whose work the core does: `init` makes its binding instance. */
export class CorePlugin<Instance extends BindingInstance> {
  readonly name: string
  readonly sdkVersion: SdkVersionRange
  /** The binding instance for a config (blocking is fine: loading and opening only). */
  readonly #make: (config: PluginConfig) => Instance
  #instance: Instance | undefined

  constructor(name: string, sdkVersion: SdkVersionRange, make: (config: PluginConfig) => Instance) {
    this.name = name
    this.sdkVersion = sdkVersion
    this.#make = make
  }

  async init(config: PluginConfig, _ctx: PluginContext): Promise<void> {
    this.#instance = callBindingSync(() => this.#make(config))
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
    const instance = this.#instance
    if (!instance) return { healthy: false, message: 'not initialised' }
    const health = await callBinding(() => instance.healthCheck())
    return { healthy: health.healthy, message: health.message }
  }

  async shutdown(): Promise<void> {
    const instance = this.#instance
    if (instance) await callBinding(() => instance.shutdown())
  }
}
