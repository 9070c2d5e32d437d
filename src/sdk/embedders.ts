// Two embedder plugins modelport ships (seed 004's `EmbedderPlugin`): one over any modelport
// provider's embeddings (the openai plugin's, say), and a deterministic local one for tests and
// offline use.
import { createHash } from 'node:crypto'

import { ModelportError } from '../errors'
import type { Provider } from '../provider'
import type { EmbedderPlugin, HealthCheckResult, PluginConfig, PluginContext, PluginExport } from './types'

const SDK_RANGE = { minVersion: 1, maxVersion: 1 }

function invalidConfig(plugin: string, message: string): ModelportError {
  return new ModelportError({ code: 'CONFIG_SCHEMA_VIOLATION', plugin, message })
}

/** A positive whole number from `config[key]`, or `fallback`. */
function positive(config: PluginConfig, key: string, plugin: string, fallback?: number): number {
  const value = config[key] ?? fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw invalidConfig(plugin, `config.${key} must be a whole number above 0, got ${JSON.stringify(value)}`)
  }
  return value
}

/**
 * Words and character trigrams of `text`, hashed into `dims` signed buckets, L2-normalised: texts
 * sharing words and spellings point the same way. Deterministic across processes and machines.
 */
export function localEmbedding(text: string, dims: number): number[] {
  const vector = new Float64Array(dims)
  const normalized = text.toLowerCase().normalize('NFKC')
  const words = normalized.match(/[\p{L}\p{N}]+/gu) ?? []
  const features = words.map((w) => `w:${w}`)
  for (const word of words) {
    const padded = ` ${word} `
    for (let i = 0; i + 3 <= padded.length; i++) features.push(`t:${padded.slice(i, i + 3)}`)
  }
  for (const feature of features) {
    const digest = createHash('sha256').update(feature).digest()
    const bucket = digest.readUInt32LE(0) % dims
    vector[bucket]! += digest[4]! & 1 ? 1 : -1
  }
  const norm = Math.hypot(...vector) || 1
  return Array.from(vector, (x) => x / norm)
}

/** `local-embedder`: `localEmbedding` with `dims` (config, default 384). No network, no model. */
export class LocalEmbedder implements EmbedderPlugin {
  readonly name = 'local-embedder'
  readonly sdkVersion = SDK_RANGE
  #dims = 384

  async init(config: PluginConfig, _ctx: PluginContext): Promise<void> {
    this.#dims = positive(config, 'dims', this.name, 384)
  }

  async healthCheck(): Promise<HealthCheckResult> {
    return { healthy: true, message: `${this.#dims} dimensions, local` }
  }

  async shutdown(): Promise<void> {}

  dims(): number {
    return this.#dims
  }

  async embedTexts(texts: string[], ctx: PluginContext): Promise<number[][]> {
    return texts.map((text) => {
      ctx.abortSignal?.throwIfAborted()
      return localEmbedding(text, this.#dims)
    })
  }
}

/** The `local-embedder` plugin export. */
export const localEmbedder: PluginExport<LocalEmbedder> = {
  manifest: {
    name: 'local-embedder',
    type: 'embedder',
    description: 'Deterministic local embeddings (hashed words and trigrams), for tests and offline use',
    sdkVersion: SDK_RANGE,
    version: '1.0.0',
  },
  createPlugin: () => new LocalEmbedder(),
}

/**
 * `provider-embedder`: the embeddings of a modelport `Provider` (config `provider`, e.g.
 * `await registry.builder('openai').build()`), with the provider's retries, timeouts and
 * abort; `dims` from config, or measured by one embedding at `init`.
 */
export class ProviderEmbedder implements EmbedderPlugin {
  readonly name = 'provider-embedder'
  readonly sdkVersion = SDK_RANGE
  #provider: Provider | undefined
  #dims = 0

  async init(config: PluginConfig, ctx: PluginContext): Promise<void> {
    const provider = config['provider'] as Provider | undefined
    if (typeof provider?.embed !== 'function') {
      throw invalidConfig(
        this.name,
        'config.provider must be a modelport Provider (registry.builder(name).build())',
      )
    }
    this.#provider = provider
    this.#dims =
      config['dims'] === undefined
        ? ((await provider.embed(['dimension probe'], { signal: ctx.abortSignal }))[0]?.length ?? 0)
        : positive(config, 'dims', this.name)
  }

  async healthCheck(): Promise<HealthCheckResult> {
    if (!this.#provider) return { healthy: false, message: 'not initialised' }
    return this.#provider.healthCheck()
  }

  async shutdown(): Promise<void> {
    this.#provider = undefined
  }

  dims(): number {
    return this.#dims
  }

  async embedTexts(texts: string[], ctx: PluginContext): Promise<number[][]> {
    if (!this.#provider)
      throw new ModelportError({ code: 'ABORTED', plugin: this.name, message: 'the embedder is shut down' })
    const vectors = await this.#provider.embed(texts, { signal: ctx.abortSignal })
    const wrong = vectors.find((v) => v.length !== this.#dims)
    if (wrong) {
      throw new ModelportError({
        code: 'PARSE_ERROR',
        plugin: this.name,
        message: `the provider answered ${wrong.length}-dimension vectors; this embedder has ${this.#dims}`,
      })
    }
    return vectors.map((v) => Array.from(v))
  }
}

/** The `provider-embedder` plugin export. */
export const providerEmbedder: PluginExport<ProviderEmbedder> = {
  manifest: {
    name: 'provider-embedder',
    type: 'embedder',
    description: "Embeddings from a modelport Provider (e.g. the openai plugin's)",
    sdkVersion: SDK_RANGE,
    version: '1.0.0',
  },
  createPlugin: () => new ProviderEmbedder(),
}
