// A modelport provider as a LangChain chat model.
import type { CallbackManagerForLLMRun } from '@langchain/core/callbacks/manager'
import {
  BaseChatModel,
  type BaseChatModelCallOptions,
  type BaseChatModelParams,
  type BindToolsInput,
} from '@langchain/core/language_models/chat_models'
import type { BaseLanguageModelInput } from '@langchain/core/language_models/base'
import { AIMessageChunk, type BaseMessage } from '@langchain/core/messages'
import { ChatGenerationChunk, type ChatResult } from '@langchain/core/outputs'
import type { Runnable } from '@langchain/core/runnables'
import { convertToOpenAITool } from '@langchain/core/utils/function_calling'

import { CALL_SETTINGS } from '../call-options'
import type { Provider } from '../provider'
import type { PluginRegistry } from '../registry'
import type { ChatOptions, ToolChoice, ToolDefinition } from '../types'
import { toMessages, usageMetadataOf } from './messages'

/** A call's options: LangChain's, the tools `bindTools` binds, and modelport's own call settings. */
export interface ChatModelportCallOptions
  extends BaseChatModelCallOptions, Omit<ChatOptions, 'signal' | 'tools' | 'toolChoice'> {
  tools?: BindToolsInput[]
  /** `auto`, `none`, `required` (`any` is the same), or a tool's name. */
  tool_choice?: string | { name: string }
}

export interface ChatModelportInput extends BaseChatModelParams {
  /** The registry whose provider answers (loaded and closed by you). */
  registry: PluginRegistry
  /** The provider's config name. */
  provider: string
  /** A model other than the configured one. */
  model?: string
  /** Settings every call gets (a call's own win). */
  defaults?: Omit<ChatOptions, 'signal' | 'tools'>
}

function toolChoiceOf(choice: ChatModelportCallOptions['tool_choice']): ToolChoice | undefined {
  if (choice === undefined) return undefined
  if (typeof choice === 'object') return { name: choice.name }
  if (choice === 'any') return 'required'
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice
  return { name: choice }
}

/** `ChatModelport`: `invoke`, `stream` (text, tool-call chunks, usage), `bindTools`, `withStructuredOutput`. */
export class ChatModelport extends BaseChatModel<ChatModelportCallOptions, AIMessageChunk> {
  static override lc_name() {
    return 'ChatModelport'
  }

  readonly #registry: PluginRegistry
  readonly providerName: string
  readonly model: string | undefined
  readonly #defaults: ChatModelportInput['defaults']
  #provider: Promise<Provider> | undefined

  constructor(fields: ChatModelportInput) {
    super(fields)
    this.#registry = fields.registry
    this.providerName = fields.provider
    this.model = fields.model
    this.#defaults = fields.defaults
  }

  _llmType(): string {
    return 'modelport'
  }

  /** The provider, built once (a failed build is tried again next time). */
  #built(): Promise<Provider> {
    if (!this.#provider) {
      const builder = this.#registry.builder(this.providerName)
      this.#provider = (this.model === undefined ? builder : builder.model(this.model)).build()
      this.#provider.catch(() => (this.#provider = undefined))
    }
    return this.#provider
  }

  override bindTools(
    tools: BindToolsInput[],
    kwargs?: Partial<ChatModelportCallOptions>,
  ): Runnable<BaseLanguageModelInput, AIMessageChunk, ChatModelportCallOptions> {
    return this.withConfig({ tools, ...kwargs })
  }

  #chatOptions(options: this['ParsedCallOptions']): ChatOptions {
    const { tools, tool_choice, signal, ...rest } = options
    const settings: ChatOptions = {}
    for (const key of CALL_SETTINGS) {
      if (key === 'toolChoice') continue // from `tool_choice`, below
      const value =
        (rest as ChatOptions)[key] ?? this.#defaults?.[key as keyof ChatModelportInput['defaults']]
      if (value !== undefined) (settings as Record<string, unknown>)[key] = value
    }
    if (options.stop && settings.stopSequences === undefined) settings.stopSequences = options.stop
    if (tools && tools.length > 0)
      settings.tools = tools.map((tool) => convertToOpenAITool(tool) as ToolDefinition)
    const choice =
      toolChoiceOf(tool_choice as ChatModelportCallOptions['tool_choice']) ?? this.#defaults?.toolChoice
    if (choice !== undefined && settings.tools) settings.toolChoice = choice
    if (signal) settings.signal = signal
    return settings
  }

  async _generate(
    messages: BaseMessage[],
    options: this['ParsedCallOptions'],
    runManager?: CallbackManagerForLLMRun,
  ): Promise<ChatResult> {
    const provider = await this.#built()
    const response = await provider.chat(toMessages(messages), this.#chatOptions(options))
    const text = response.text ?? ''
    // A chunk, as LangChain's structured-output parser expects; its tool calls (and the invalid
    // ones, whose arguments do not parse) are derived from the chunks.
    const message = new AIMessageChunk({
      content: text,
      tool_call_chunks: response.toolCalls.map((call, index) => ({
        index,
        id: call.id,
        name: call.name,
        args: call.arguments,
        type: 'tool_call_chunk' as const,
      })),
      ...(response.usage ? { usage_metadata: usageMetadataOf(response.usage) } : {}),
      response_metadata: { finish_reason: response.finishReason, model_provider: 'modelport' },
      ...(response.thinking ? { additional_kwargs: { reasoning_content: response.thinking } } : {}),
    })
    if (text) await runManager?.handleLLMNewToken(text)
    return { generations: [{ text, message }] }
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this['ParsedCallOptions'],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    const provider = await this.#built()
    const stream = provider.chatStream(toMessages(messages), this.#chatOptions(options))
    for await (const event of stream) {
      let chunk: AIMessageChunk | undefined
      let text = ''
      switch (event.type) {
        case 'text':
          text = event.text
          chunk = new AIMessageChunk({ content: text })
          break
        case 'thinking':
          chunk = new AIMessageChunk({ content: '', additional_kwargs: { reasoning_content: event.text } })
          break
        case 'toolUseStart':
          chunk = new AIMessageChunk({
            content: '',
            tool_call_chunks: [
              { index: event.index, id: event.id, name: event.name, args: '', type: 'tool_call_chunk' },
            ],
          })
          break
        case 'toolUseInputDelta':
          chunk = new AIMessageChunk({
            content: '',
            tool_call_chunks: [{ index: event.index, args: event.partialJson, type: 'tool_call_chunk' }],
          })
          break
        case 'usage':
          chunk = new AIMessageChunk({ content: '', usage_metadata: usageMetadataOf(event.usage) })
          break
        case 'done':
          chunk = new AIMessageChunk({
            content: '',
            response_metadata: { finish_reason: event.finishReason, model_provider: 'modelport' },
          })
          break
        default:
          // thinkingSignature, toolUseComplete: already told by the chunks above.
          break
      }
      if (!chunk) continue
      yield new ChatGenerationChunk({ text, message: chunk })
      if (text) await runManager?.handleLLMNewToken(text)
    }
  }
}
