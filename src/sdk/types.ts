// The types of seed 004's plugin SDK (the Orchestrator plugin SDK), under the names its users
// look for. Messages, tool definitions and stream events are modelport's own.
import type { ChatStreamEvent, FinishReason, Message, ToolCall, ToolDefinition } from '../types'

/** The SDK versions a plugin works with: `minVersion` to `maxVersion` (open above when absent). */
export interface SdkVersionRange {
  minVersion: number
  maxVersion?: number
}

/** What a plugin is. */
export type PluginType = 'provider' | 'embedder' | 'vector-backend' | 'tool-executor'

/** What a plugin declares about itself; checked before any of its code runs. */
export interface PluginManifest {
  name: string
  description?: string
  type: PluginType
  sdkVersion: SdkVersionRange
  version?: string
  /** A JSON Schema the plugin's config must satisfy: checked before any of the plugin's code
   * runs (`CONFIG_SCHEMA_VIOLATION` naming the field). */
  configSchema?: Record<string, unknown>
}

/** A plugin's settings, as its author defines them. */
export type PluginConfig = Record<string, unknown>

/** One record a plugin logs (`{ type: 'log', message }`, with any other fields it likes). */
export interface PluginLogEvent {
  type: string
  message: string
  level?: 'error' | 'warn' | 'info' | 'debug'
  [field: string]: unknown
}

/** Where a plugin logs. */
export interface PluginLogger {
  log(event: PluginLogEvent): void
}

/** What a plugin gets with every call: the run it serves, a logger, and a signal to stop. */
export interface PluginContext {
  runId: string
  logger: PluginLogger
  abortSignal?: AbortSignal
}

export interface HealthCheckResult {
  healthy: boolean
  message?: string
  details?: Record<string, unknown>
}

/** The lifecycle every plugin kind shares. */
export interface BasePlugin {
  readonly name: string
  readonly sdkVersion: SdkVersionRange
  init(config: PluginConfig, ctx: PluginContext): Promise<void>
  healthCheck(): Promise<HealthCheckResult>
  shutdown(): Promise<void>
}

export interface ProviderCapabilities {
  supportsStreaming: boolean
  supportsToolCalling: boolean
  supportsJsonMode: boolean
  modality: 'text' | 'multimodal' | 'embedding' | 'audio'
  latencyClass: 'fast' | 'medium' | 'slow'
}

/** A request to a provider plugin. */
export interface ModelRequest {
  messages: Message[]
  model?: string
  maxTokens?: number
  temperature?: number
  tools?: ToolDefinition[]
  /** Ask for a JSON object as the answer. */
  jsonMode?: boolean
}

export interface ModelUsage {
  inputTokens: number
  outputTokens: number
  totalTokens?: number
}

/** A provider plugin's answer. */
export interface ModelResponse {
  text?: string
  toolCalls?: ToolCall[]
  usage?: ModelUsage
  finishReason?: FinishReason
}

/** One event of a streamed answer (modelport's stream events). */
export type StreamEvent = ChatStreamEvent

export interface ProviderAdapterPlugin extends BasePlugin {
  capabilities(): ProviderCapabilities
  generate(req: ModelRequest, ctx: PluginContext): Promise<ModelResponse>
  stream?(req: ModelRequest, ctx: PluginContext): AsyncIterable<StreamEvent>
}

export interface EmbedderPlugin extends BasePlugin {
  dims(): number
  embedTexts(texts: string[], ctx: PluginContext): Promise<number[][]>
}

export interface VectorItem {
  id: string
  vector: Float32Array | number[]
  metadata?: Record<string, string | number | boolean>
  content?: string
}

export interface VectorQueryResult {
  id: string
  /** Higher is closer. */
  score: number
  metadata?: Record<string, string | number | boolean>
  content?: string
}

/** Metadata equalities every result must satisfy. */
export type VectorQueryFilter = Record<string, string | number | boolean>

export interface VectorBackendInfo {
  backend: string
  dims: number
  embedderId: string
  location: 'local' | 'remote'
  supportsFilters: boolean
}

export interface VectorMemoryBackendPlugin extends BasePlugin {
  upsert(repoId: string, items: VectorItem[], ctx: PluginContext): Promise<void>
  query(
    repoId: string,
    vector: Float32Array,
    topK: number,
    ctx: PluginContext,
    filter?: VectorQueryFilter,
  ): Promise<VectorQueryResult[]>
  deleteByIds(repoId: string, ids: string[], ctx: PluginContext): Promise<void>
  wipeRepo(repoId: string, ctx: PluginContext): Promise<void>
  info(): Promise<VectorBackendInfo>
}

/** A command to run. */
export interface ToolRunRequest {
  command: string
  args?: string[]
  /** Inside the policy's working folder. */
  cwd?: string
  env?: Record<string, string>
  timeoutMs?: number
  stdin?: string
}

/** What a tool executor may do. */
export interface ToolPolicy {
  enabled: boolean
  /** Commands that may run (by name); none when absent. */
  allowedCommands?: string[]
  workingDirectory?: string
  /** Environment variables passed through; all others are dropped. */
  allowedEnv?: string[]
  timeoutMs?: number
  /** Bytes kept of stdout and of stderr each; the rest is cut (`truncated`). */
  maxOutputBytes?: number
  cpuSeconds?: number
  memoryBytes?: number
}

export interface ToolRunResult {
  exitCode: number
  durationMs: number
  stdoutPath: string
  stderrPath: string
  truncated: boolean
  /** The signal that ended the command, if one did (a timeout's SIGKILL, say). */
  signal?: string
}

export interface ToolExecutorPlugin extends BasePlugin {
  execute(request: ToolRunRequest, policy: ToolPolicy, ctx: PluginContext): Promise<ToolRunResult>
  isAllowed(command: string, policy: ToolPolicy): boolean
}

/** Any plugin of the SDK. */
export type SdkPlugin =
  ProviderAdapterPlugin | EmbedderPlugin | VectorMemoryBackendPlugin | ToolExecutorPlugin

/** What a plugin module exports (its default export): the manifest and a factory. */
export interface PluginExport<T extends BasePlugin = SdkPlugin> {
  manifest: PluginManifest
  createPlugin(): T | Promise<T>
}
