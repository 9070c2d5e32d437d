// A modelport provider as an AI SDK embedding model (specification v3).
import type { EmbeddingModelV3, EmbeddingModelV3CallOptions, EmbeddingModelV3Result } from '@ai-sdk/provider'

import type { Provider } from '../provider'
import { toAISDKError } from './errors'

export class ModelportEmbeddingModel implements EmbeddingModelV3 {
  readonly specificationVersion = 'v3'
  readonly provider: string
  readonly modelId: string
  readonly maxEmbeddingsPerCall: number
  readonly supportsParallelCalls = true
  readonly #provider: () => Promise<Provider>
  /** The provider's config name. */
  readonly #name: string

  /** @internal Made by `createModelport`. */
  constructor(
    provider: string,
    modelId: string,
    build: () => Promise<Provider>,
    maxEmbeddingsPerCall: number,
  ) {
    this.#name = provider
    this.provider = `modelport.${provider}`
    this.modelId = modelId
    this.#provider = build
    this.maxEmbeddingsPerCall = maxEmbeddingsPerCall
  }

  async doEmbed(options: EmbeddingModelV3CallOptions): Promise<EmbeddingModelV3Result> {
    try {
      const provider = await this.#provider()
      const vectors = await provider.embed(
        options.values,
        options.abortSignal ? { signal: options.abortSignal } : {},
      )
      return { embeddings: vectors.map((vector) => Array.from(vector)), warnings: [] }
    } catch (error) {
      throw toAISDKError(error, this.#name)
    }
  }
}
