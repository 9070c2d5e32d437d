// A modelport provider as an AI SDK language model (specification v3).
import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3Content,
  LanguageModelV3GenerateResult,
  LanguageModelV3StreamResult,
  SharedV3Warning,
} from '@ai-sdk/provider'

import type { Provider } from '../provider'
import type { Message } from '../types'
import { toChatOptions } from './call-settings'
import { toAISDKError } from './errors'
import { toMessages } from './prompt'
import { finishReasonOf, usageOf } from './results'
import { toStreamParts } from './stream'

/** What a model needs of its provider: the built provider and its plugin's config schema. */
export interface ModelSource {
  provider: () => Promise<Provider>
  schema: () => Record<string, unknown>
}

export class ModelportLanguageModel implements LanguageModelV3 {
  readonly specificationVersion = 'v3'
  readonly provider: string
  readonly modelId: string
  /** Image URLs go to the plugin as URLs; the AI SDK downloads every other file. */
  readonly supportedUrls = { 'image/*': [/^https?:\/\//i] }
  // Plain (TypeScript) private fields, not `#` ones: the AI SDK 7 calls a v3 model's methods
  // through a Proxy, on which a `#` field cannot be read.
  private readonly source: ModelSource
  /** The provider's config name. */
  private readonly configName: string

  /** @internal Made by `createModelport`. */
  constructor(provider: string, modelId: string, source: ModelSource) {
    this.configName = provider
    this.provider = `modelport.${provider}`
    this.modelId = modelId
    this.source = source
  }

  private async prepare(options: LanguageModelV3CallOptions) {
    const warnings: SharedV3Warning[] = []
    const provider = await this.source.provider()
    const messages: Message[] = toMessages(options.prompt, warnings)
    const chat = toChatOptions(options, this.source.schema(), warnings)
    return { provider, messages, chat, warnings }
  }

  async doGenerate(options: LanguageModelV3CallOptions): Promise<LanguageModelV3GenerateResult> {
    try {
      const { provider, messages, chat, warnings } = await this.prepare(options)
      const response = await provider.chat(messages, chat)
      const content: LanguageModelV3Content[] = []
      if (response.thinking) content.push({ type: 'reasoning', text: response.thinking })
      if (response.text) content.push({ type: 'text', text: response.text })
      for (const call of response.toolCalls)
        content.push({ type: 'tool-call', toolCallId: call.id, toolName: call.name, input: call.arguments })
      return {
        content,
        finishReason: finishReasonOf(response.finishReason),
        usage: usageOf(response.usage),
        warnings,
      }
    } catch (error) {
      throw toAISDKError(error, this.configName)
    }
  }

  async doStream(options: LanguageModelV3CallOptions): Promise<LanguageModelV3StreamResult> {
    try {
      const { provider, messages, chat, warnings } = await this.prepare(options)
      return { stream: toStreamParts(provider.chatStream(messages, chat), warnings, this.configName) }
    } catch (error) {
      throw toAISDKError(error, this.configName)
    }
  }
}
