/**
 * modelport: load LLM provider plugins (native shared libraries and Extism Wasm modules)
 * and use them through one typed API.
 */
export { ModelportError } from './src/errors'
export { ExtismPlugin } from './src/extism-plugin'
export type {
  CallOptions,
  CallSyncOptions,
  ExtismPluginOptions,
  HostFunction,
  HostFunctions,
  LogLevel,
  Manifest,
  ManifestWasm,
  PluginLogger,
} from './src/extism-plugin'
export { CallContext, PluginOutput } from './src/extism-call-context'
export type { ErrorCode, ModelportErrorInfo } from './src/errors'
export { PluginRegistry, ProviderBuilder } from './src/registry'
export { Provider } from './src/provider'
export { ChatStream } from './src/chat-stream'
export type {
  AssistantMessage,
  ChatOptions,
  ChatResponse,
  ChatStreamEvent,
  CompletionRequest,
  CompletionResponse,
  FinishReason,
  JsonSchema,
  LoadReport,
  PluginEntry,
  Message,
  Part,
  PluginInfo,
  PluginKind,
  ProviderEntry,
  RegistryConfig,
  RequestOptions,
  ResponseFormat,
  Speech,
  SpeechOptions,
  SystemMessage,
  ToolCall,
  ToolChoice,
  ToolDefinition,
  ToolMessage,
  TranscribeOptions,
  Transcript,
  Usage,
  UserMessage,
} from './src/types'
