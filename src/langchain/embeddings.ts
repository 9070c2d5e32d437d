// A modelport provider as LangChain embeddings.
import { Embeddings, type EmbeddingsParams } from '@langchain/core/embeddings'

import type { Provider } from '../provider'
import type { PluginRegistry } from '../registry'

export interface ModelportEmbeddingsInput extends EmbeddingsParams {
  /** The registry whose provider embeds (loaded and closed by you). */
  registry: PluginRegistry
  /** The provider's config name. */
  provider: string
}

export class ModelportEmbeddings extends Embeddings {
  readonly #registry: PluginRegistry
  readonly providerName: string
  #provider: Promise<Provider> | undefined

  constructor(fields: ModelportEmbeddingsInput) {
    super(fields)
    this.#registry = fields.registry
    this.providerName = fields.provider
  }

  #built(): Promise<Provider> {
    if (!this.#provider) {
      this.#provider = this.#registry.builder(this.providerName).build()
      this.#provider.catch(() => (this.#provider = undefined))
    }
    return this.#provider
  }

  async embedDocuments(documents: string[]): Promise<number[][]> {
    const provider = await this.#built()
    // Not through LangChain's retrying caller: modelport has retried by its own policy already.
    const vectors = await provider.embed(documents)
    return vectors.map((vector) => Array.from(vector))
  }

  async embedQuery(document: string): Promise<number[]> {
    const [vector] = await this.embedDocuments([document])
    return vector!
  }
}
