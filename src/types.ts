import type { ModelportError } from './errors'

/** A content part of a message. */
export type Part =
  | { type: 'text'; text: string }
  | { type: 'image'; mimeType: string; data: string }
  | { type: 'imageUrl'; url: string }
  | { type: 'pdf'; data: string }
  | { type: 'audio'; mimeType: string; data: string }
  | { type: 'thinking'; text: string; signature?: string }
  | { type: 'toolUse'; id: string; name: string; arguments: unknown }
  | { type: 'toolResult'; id: string; name?: string; isError?: boolean; content: string | Part[] }

/** A system prompt for this call (appended to the provider's configured `system`). */
export interface SystemMessage {
  role: 'system'
  content: string
}

export interface UserMessage {
  role: 'user'
  content: string | Part[]
}

export interface AssistantMessage {
  role: 'assistant'
  content?: string | Part[] | null
  /** Tool calls the assistant made (pass `response.toolCalls` back as is). */
  toolCalls?: ToolCall[]
}

/** The result of a tool call, answering the call with id `toolCallId`. */
export interface ToolMessage {
  role: 'tool'
  toolCallId: string
  name?: string
  content: string | Part[]
  isError?: boolean
}

/** One message of a conversation. */
export type Message = SystemMessage | UserMessage | AssistantMessage | ToolMessage

/** JSON Schema, as a plain object. */
export type JsonSchema = Record<string, unknown>

/** A tool the model may call: plain, or in OpenAI's `{ type: 'function', function }` shape. */
export type ToolDefinition =
  | { name: string; description?: string; parameters?: JsonSchema }
  | { type: 'function'; function: { name: string; description?: string; parameters: JsonSchema } }

/** A tool call the model made; `arguments` is JSON text exactly as the model wrote it. */
export interface ToolCall {
  id: string
  name: string
  arguments: string
}

export interface Usage {
  inputTokens: number
  outputTokens: number
  reasoningTokens?: number | null
  cacheRead?: number | null
  cacheWrite?: number | null
}

export type FinishReason = 'stop' | 'length' | 'contentFilter' | 'toolCalls' | 'error' | 'other' | 'unknown'

/** A whole chat answer. */
export interface ChatResponse {
  text: string | null
  toolCalls: ToolCall[]
  thinking: string | null
  usage: Usage | null
  finishReason: FinishReason | null
}

/** What every provider call accepts. */
export interface RequestOptions {
  /** Aborting cancels the call (its HTTP exchange, a running Wasm call, a backoff wait) and rejects it with `ABORTED`. */
  signal?: AbortSignal
  /** Deadline of the whole call in ms, retries included (for `chatStream`: until the stream ends); `TIMEOUT` when exceeded. */
  timeoutMs?: number
  /** Retries of a transient failure (408/429/5xx, connection failure) for this call; default: the provider's `max_retries` (2). */
  maxRetries?: number
}

/** Which tool the model must use: any or none as it likes (`auto`), none, at least one, or the one named. */
export type ToolChoice = 'auto' | 'none' | 'required' | { name: string }

/** The shape of answer a call asks for: free text, any JSON object, or JSON following a schema. */
export type ResponseFormat =
  'text' | 'json' | { schema: JsonSchema; name?: string; description?: string; strict?: boolean }

/**
 * A chat call's own settings. Each reaches the plugin for this call only; a plugin that cannot
 * take one (its config has no such key) fails the call with `UNSUPPORTED` naming it.
 */
export interface ChatOptions extends RequestOptions {
  /** Tools the model may call in this turn. */
  tools?: ToolDefinition[]
  /** Tool choice for this turn (the plugin's `tool_choice` config key). */
  toolChoice?: ToolChoice
  /** Sampling temperature (`temperature`). */
  temperature?: number
  /** Most tokens to generate (`max_tokens`). */
  maxOutputTokens?: number
  /** Nucleus sampling (`top_p`). */
  topP?: number
  /** Top-k sampling (`top_k`). */
  topK?: number
  /** Sequences that end the answer (`stop`). */
  stopSequences?: string[]
  /** Seed for repeatable sampling (`seed`). */
  seed?: number
  /** JSON mode or structured output (`response_format`, or QueryMT's `json_schema`). */
  responseFormat?: ResponseFormat
  /** Extra HTTP headers for the upstream request (`extra_headers`). */
  headers?: Record<string, string>
  /** Any other key the plugin's config schema accepts, for this call. */
  parameters?: Record<string, unknown>
}

export interface TranscribeOptions extends RequestOptions {
  /** The audio's MIME type (`audio/wav`, `audio/mpeg`, …); the provider guesses the format from it. */
  mimeType: string
  /** The spoken language (ISO-639-1, e.g. `en`), when known. */
  language?: string
  /**
   * Text that guides the transcription (names, spelling). Sent to the plugin; plugins built with
   * QueryMT's own macros have no such field and ignore it.
   */
  prompt?: string
  /** The file name sent with the audio (default `audio.<ext>` from `mimeType`). */
  filename?: string
  /** A model other than the configured one. */
  model?: string
}

export interface Transcript {
  text: string
}

export interface SpeechOptions extends RequestOptions {
  /** A voice the provider offers, by name (OpenAI: `alloy`, `nova`, …). */
  voice?: string
  /** The audio format (`mp3`, `wav`, `opus`, `aac`, `flac`, `pcm`); default: the provider's (OpenAI: mp3). */
  format?: string
  /** Speaking speed, 1 = normal, where the provider supports it. */
  speed?: number
  /** The language to speak, where the provider supports it. */
  language?: string
  /** A model other than the configured one. */
  model?: string
}

export interface Speech {
  audio: Uint8Array
  /** The audio's MIME type: the provider's, else the one `format` stands for. */
  mimeType: string
}

/** One event of a streamed answer. */
export type ChatStreamEvent =
  | { type: 'text'; text: string }
  | { type: 'thinking'; text: string }
  /** The signature of the reasoning just streamed (echo it back in a `thinking` part). */
  | { type: 'thinkingSignature'; signature: string }
  /** A tool call begins; `index` tells parallel calls apart. */
  | { type: 'toolUseStart'; index: number; id: string; name: string }
  /** More of the arguments JSON of the call at `index`. */
  | { type: 'toolUseInputDelta'; index: number; partialJson: string }
  /** The call at `index` is whole. */
  | { type: 'toolUseComplete'; index: number; toolCall: ToolCall }
  | { type: 'usage'; usage: Usage }
  /** The last event of a complete answer. */
  | { type: 'done'; finishReason: FinishReason }

export interface CompletionRequest {
  prompt: string
  suffix?: string
  maxTokens?: number
  temperature?: number
}

export interface CompletionResponse {
  text: string
}

/** One provider entry of a config file. Host-side settings sit beside `config`. */
export interface ProviderEntry {
  /** Unique name the application uses. */
  name: string
  /** Plugin file; relative to the config file's folder. A native path may omit the extension. */
  path: string
  /** Static config handed to the plugin (validated against its schema). */
  config?: Record<string, unknown>
  /**
   * The environment variable whose value becomes `config.api_key` when neither `config` nor the
   * builder sets one. Default: the variable a native plugin names (`apiKeyName`); none for a Wasm
   * plugin, which is never given a variable it chose. `""`: none.
   */
  api_key_env?: string
  connect_timeout_ms?: number
  request_timeout_ms?: number
  /** Largest HTTP response accepted, in bytes (alias: `max_http_response_bytes`). */
  max_response_bytes?: number
  /** Retries of 408/429/5xx and connection failures (default 2; 0 = none). */
  max_retries?: number
  /** Backoff before the first retry, in ms (default 500; doubled per retry, with jitter). */
  retry_base_delay_ms?: number
  /** Longest backoff wait, in ms (default 8000). */
  retry_max_delay_ms?: number
  /**
   * Wasm only: destinations reachable besides the configured `base_url` (its scheme, host and
   * port): `api.example.com` (any scheme and port), `*.example.com`, `api.example.com:8080`,
   * `https://api.example.com` (that scheme, its default port), `127.0.0.1`. Empty: none.
   */
  allowed_hosts?: string[]
  /** Wasm only: environment variables copied into the plugin's Extism config. */
  env?: string[]
  /** Wasm only: longest one plugin call may run, in ms (default 30000; 0 = no limit). */
  timeout_ms?: number
  /** Wasm only: memory cap in 64 KiB pages (default 1024 = 64 MiB). */
  max_memory_pages?: number
  /** Wasm only: instances per provider (default 4). */
  max_instances?: number
  /** Wasm only: give the plugin WASI (default false). */
  wasi?: boolean
  /** Wasm only (with WASI): host folder → guest path, writable by the plugin; `ro:` grants are refused (UNSUPPORTED). */
  allowed_paths?: Record<string, string>
}

/** A whole config: what `plugins.toml` holds. */
export interface RegistryConfig {
  providers: ProviderEntry[]
  /** Seed 004's plugins (`modelport/sdk`), loaded by `loadAll()`. */
  plugins?: PluginEntry[]
  oci?: Record<string, unknown>
  /** Where compiled Wasm modules are cached (default `$MODELPORT_CACHE_DIR`, else the user cache folder). */
  cache_dir?: string
}

/** How a plugin runs: a native library, a Wasm module, or (`ts`) a `modelport/sdk` plugin in this process. */
export type PluginKind = 'native' | 'wasm' | 'ts'

/** A `[[plugins]]` entry: a `modelport/sdk` plugin module and what its `init` receives. */
export interface PluginEntry {
  name: string
  /** Must be the module manifest's `type`. */
  kind: 'provider' | 'embedder' | 'vector-backend' | 'tool-executor'
  /** A JavaScript or TypeScript module whose default export is a `PluginExport`, or
   * `modelport:<name>` for a plugin modelport ships (`modelport:local-embedder`). */
  path: string
  config?: Record<string, unknown>
  /** Bound of `init`, in ms (default 30000). */
  init_timeout_ms?: number
  /** Bound of each `healthCheck` and of `shutdown`, in ms (default 10000). */
  lifecycle_timeout_ms?: number
}

/** A loaded plugin. */
export interface PluginInfo {
  name: string
  kind: PluginKind
  path: string
  version?: string
  /** The provider name the plugin reports, e.g. 'openai'. */
  provider: string
  /** The environment variable the plugin says its API key is in. */
  apiKeyName?: string
  /** The environment variable the host reads this entry's API key from (see `api_key_env`). */
  apiKeyEnv?: string
  /** Whether modelport performs the plugin's HTTP (true) or the plugin works by itself. */
  hostHttp: boolean
  /** Wasm only: whether the module was found compiled in the on-disk cache when it was loaded. */
  compiledFromCache?: boolean
}

/** The outcome of loading one plugin. */
export interface LoadReport {
  name: string
  /** `ts` for a `[[plugins]]` entry (a `modelport/sdk` plugin in this process). */
  kind?: PluginKind
  path: string
  ok: boolean
  error?: ModelportError
}
