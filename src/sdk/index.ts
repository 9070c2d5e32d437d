/**
 * `modelport/sdk`: seed 004's plugin SDK — its types, `SDK_VERSION`, `loadPlugin`,
 * `safeLoadPlugin` and error classes, with modelport's checks behind them.
 */
export { LocalEmbedder, localEmbedder, localEmbedding, ProviderEmbedder, providerEmbedder } from './embedders'
export { PluginValidationError, PluginVersionMismatchError } from './errors'
export { SqliteVectorBackend, sqliteVectors } from './sqlite-vectors'
export { SandboxedToolExecutor, sandboxedToolExecutor } from './tool-executor'
export type { Isolation } from './tool-executor'
export { DEFAULT_INIT_TIMEOUT_MS, loadPlugin, safeLoadPlugin, SDK_VERSION } from './load'
export type { LoadPluginOptions, SafeLoadResult } from './load'
export { DEFAULT_LIFECYCLE_TIMEOUT_MS } from './registered'
export type { RegisteredPluginInfo, RegisterOptions } from './registered'
export type {
  BasePlugin,
  EmbedderPlugin,
  HealthCheckResult,
  ModelRequest,
  ModelResponse,
  ModelUsage,
  PluginConfig,
  PluginContext,
  PluginExport,
  PluginLogEvent,
  PluginLogger,
  PluginManifest,
  PluginType,
  ProviderAdapterPlugin,
  ProviderCapabilities,
  SdkPlugin,
  SdkVersionRange,
  StreamEvent,
  ToolExecutorPlugin,
  ToolPolicy,
  ToolRunRequest,
  ToolRunResult,
  VectorBackendInfo,
  VectorItem,
  VectorMemoryBackendPlugin,
  VectorQueryFilter,
  VectorQueryResult,
} from './types'
