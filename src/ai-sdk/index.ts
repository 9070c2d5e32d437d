// `modelport/ai-sdk`: modelport's providers as a Vercel AI SDK provider (specification v3).
//   const modelport = createModelport({ registry })
//   await generateText({ model: modelport('openai:gpt-4o-mini'), prompt: 'Hello' })
// Types come from `@ai-sdk/provider` (type-only imports): nothing of the AI SDK is loaded at runtime.
import type { ImageModelV3, ProviderV3 } from '@ai-sdk/provider'

import { ModelportError } from '../errors'
import type { Provider } from '../provider'
import type { PluginRegistry } from '../registry'
import { ModelportEmbeddingModel } from './embedding-model'
import { ModelportLanguageModel } from './language-model'

export { ModelportAISDKError } from './errors'
export type { ModelportCallProviderOptions } from './call-settings'
export { ModelportEmbeddingModel } from './embedding-model'
export { ModelportLanguageModel } from './language-model'

export interface ModelportAISDKSettings {
  /** The registry whose providers the models use (loaded and closed by you). */
  registry: PluginRegistry
  /** Most values per embedding call (the AI SDK's `embedMany` splits larger batches); default 2048. */
  maxEmbeddingsPerCall?: number
}

/** The AI SDK provider: `modelport('openai:gpt-4o-mini')` is `modelport.languageModel(…)`. */
export interface ModelportAISDKProvider extends ProviderV3 {
  (modelId: string): ModelportLanguageModel
  languageModel(modelId: string): ModelportLanguageModel
  embeddingModel(modelId: string): ModelportEmbeddingModel
}

/** `provider:model` (or `provider` alone: its configured model) as its two halves. */
function parseId(modelId: string): { name: string; model: string | undefined } {
  const colon = modelId.indexOf(':')
  const name = colon < 0 ? modelId : modelId.slice(0, colon)
  const model = colon < 0 ? undefined : modelId.slice(colon + 1)
  if (name === '' || model === '') {
    throw new ModelportError({
      code: 'INVALID_REQUEST',
      message: `model id ${JSON.stringify(modelId)}: expected "provider:model" or "provider"`,
    })
  }
  return { name, model }
}

export function createModelport(settings: ModelportAISDKSettings): ModelportAISDKProvider {
  const { registry } = settings
  const built = new Map<string, Promise<Provider>>()
  /** The provider for `modelId`, built once (a failed build is tried again next time). */
  const provider = (modelId: string) => () => {
    let pending = built.get(modelId)
    if (!pending) {
      const { name, model } = parseId(modelId)
      const builder = registry.builder(name)
      pending = (model === undefined ? builder : builder.model(model)).build()
      pending.catch(() => built.delete(modelId))
      built.set(modelId, pending)
    }
    return pending
  }
  const languageModel = (modelId: string) => {
    const { name } = parseId(modelId)
    return new ModelportLanguageModel(name, modelId, {
      provider: provider(modelId),
      schema: () => registry.configSchema(name),
    })
  }
  const embeddingModel = (modelId: string) =>
    new ModelportEmbeddingModel(
      parseId(modelId).name,
      modelId,
      provider(modelId),
      settings.maxEmbeddingsPerCall ?? 2048,
    )
  const modelport = ((modelId: string) => languageModel(modelId)) as ModelportAISDKProvider
  Object.assign(modelport, {
    specificationVersion: 'v3' as const,
    languageModel,
    embeddingModel,
    imageModel(modelId: string): ImageModelV3 {
      throw new ModelportError({ code: 'UNSUPPORTED', message: `${modelId}: modelport has no image models` })
    },
  })
  return modelport
}
