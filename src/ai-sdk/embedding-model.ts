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
  // Plain (TypeScript) private fields, not `#` ones: the AI SDK 7 calls a v3 model's methods
  // through a Proxy, on which a `#` field cannot be read.
  private readonly build: () => Promise<Provider>
  /** The provider's config name. */
  private readonly configName: string

  /** @internal Made by `createModelport`. */
  constructor(
    provider: string,
    modelId: string,
    build: () => Promise<Provider>,
    maxEmbeddingsPerCall: number,
  ) {
    this.configName = provider
    this.provider = `modelport.${provider}`
    this.modelId = modelId
    this.build = build
    this.maxEmbeddingsPerCall = maxEmbeddingsPerCall
  }

  async doEmbed(options: EmbeddingModelV3CallOptions): Promise<EmbeddingModelV3Result> {
    try {
      const provider = await this.build()
      const vectors = await provider.embed(
        options.values,
        options.abortSignal ? { signal: options.abortSignal } : {},
      )
      return { embeddings: vectors.map((vector) => Array.from(vector)), warnings: [] }
    } catch (error) {
      throw toAISDKError(error, this.configName)
    }
  }
}
