import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

/** One request the server received. */
export interface RecordedRequest {
  method: string
  path: string
  headers: Record<string, string | string[] | undefined>
  /** The parsed JSON body, or `undefined` for bodiless requests. */
  body: unknown
}

/** An OpenAI chat message as the server received it. */
export interface WireMessage {
  role: string
  content?: unknown
  tool_calls?: Array<{ id: string; type: string; function: { name: string; arguments: string } }>
  tool_call_id?: string
}

/** What a chat request asked for, handed to `reply`. */
export interface MockChatRequest {
  model: string
  messages: WireMessage[]
  tools: Array<{
    type: string
    function: { name: string; description?: string; parameters?: Record<string, unknown> }
  }>
  lastUserText: string
  body: Record<string, unknown>
}

export interface MockOpenAIOptions {
  /** Port on 127.0.0.1 (default: a free one). */
  port?: number
  /** When set, requests must carry `Authorization: Bearer <apiKey>` or get a 401. */
  apiKey?: string
  /** What `GET /v1/models` lists. */
  models?: string[]
  /** Default length of embedding vectors (a request's `dimensions` wins). */
  embeddingDimensions?: number
  /** The chat answer's text; default `Echo: <last user text>`. */
  reply?: (request: MockChatRequest) => string
  /** Delay before every answer. */
  latencyMs?: number
  /** Delay between the events of a streamed answer. */
  chunkDelayMs?: number
  /**
   * Called before each event of a streamed chat answer is written (after `chunkDelayMs`), with
   * the event's index in its answer (0: the role); the event waits for the returned promise. A
   * test can hold a stream at a point until it has seen what the client did with the events so
   * far — an ordering that holds however busy the machine is, where a delay would only be likely.
   */
  beforeEvent?: (index: number) => Promise<void> | void
  /**
   * A raw body for a streamed chat answer instead of a well-formed one: each piece is written
   * separately (after `chunkDelayMs`), then the response ends — or the connection is reset if
   * `reset` is set. For malformed-stream and fault tests.
   */
  rawStream?: (request: MockChatRequest) => { pieces: string[]; reset?: boolean } | undefined
}

/** A scripted failure for the next request (see `failNext`). */
export interface MockFailure {
  status: number
  headers?: Record<string, string>
  /** Default: OpenAI's error JSON for the status (401 `invalid_api_key`, 429 `rate_limit_exceeded`, 5xx `server_error`). */
  body?: string
}

/** A running server. */
export interface MockOpenAI {
  /** Base URL including `/v1`, ready for a provider's `base_url`. */
  readonly url: string
  readonly port: number
  /** Every request received, in order. */
  readonly requests: RecordedRequest[]
  /** Connections open right now. */
  openConnections(): number
  /** The next requests (one per failure, in order) get these answers instead of the real one. */
  failNext(...failures: MockFailure[]): void
  /** Bytes of streamed answers written so far (the server waits for the client to read: `drain`). */
  streamedBytes(): number
  /** Stops the server, drops open connections and the answers still waiting for `latencyMs`. */
  close(): Promise<void>
}

/** How long the server keeps an idle connection open (see `keepAliveTimeout` below). */
const IDLE_CONNECTION_MS = 120_000

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'invalid_request_error',
  ) {
    super(message)
  }
}

/** What `/audio/speech` answers for each `response_format`, as OpenAI types it. */
const SPEECH_TYPES: Record<string, string> = {
  mp3: 'audio/mpeg',
  opus: 'audio/opus',
  aac: 'audio/aac',
  flac: 'audio/flac',
  wav: 'audio/wav',
  pcm: 'audio/pcm',
}

/** OpenAI's error object for a scripted failure's status, as OpenAI words it. */
function errorFor(status: number): { message: string; type: string; code: string | null } {
  const message = `scripted failure ${status}`
  if (status === 401) return { message, type: 'invalid_request_error', code: 'invalid_api_key' }
  if (status === 429) return { message, type: 'requests', code: 'rate_limit_exceeded' }
  if (status >= 500) return { message, type: 'server_error', code: null }
  if (status === 408) return { message, type: 'timeout', code: null }
  return { message, type: 'invalid_request_error', code: null }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

/** An uploaded file of a multipart request, as the server received it. */
export interface MockUpload {
  filename: string
  type: string
  bytes: Uint8Array
}

/**
 * A request's body: parsed JSON, or for `multipart/form-data` its fields (files as `MockUpload`),
 * parsed by Node's own Fetch implementation (undici) rather than by hand. `undefined` if empty.
 */
async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  if (chunks.length === 0) return undefined
  const raw = Buffer.concat(chunks)
  const type = req.headers['content-type'] ?? ''
  if (type.startsWith('multipart/form-data')) {
    let form: FormData
    try {
      form = await new Request('http://mock.invalid/', {
        method: 'POST',
        headers: { 'content-type': type },
        body: raw,
      }).formData()
    } catch (error) {
      throw new HttpError(400, `the multipart body is malformed: ${String(error)}`)
    }
    const fields: Record<string, string | MockUpload> = {}
    for (const [name, value] of form.entries()) {
      fields[name] =
        typeof value === 'string'
          ? value
          : { filename: value.name, type: value.type, bytes: new Uint8Array(await value.arrayBuffer()) }
    }
    return fields
  }
  try {
    return JSON.parse(raw.toString('utf8'))
  } catch {
    throw new HttpError(400, 'the request body is not valid JSON')
  }
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content
  if (Array.isArray(content)) {
    return content
      .map((part) => (part && typeof part === 'object' && 'text' in part ? String(part.text) : ''))
      .join('')
  }
  return ''
}

function countTokens(text: string): number {
  return text.split(/\s+/).filter(Boolean).length
}

/** A deterministic unit vector for `text`. */
export function mockEmbedding(text: string, dimensions: number): number[] {
  const values: number[] = []
  let counter = 0
  while (values.length < dimensions) {
    const digest = createHash('sha256').update(`${counter++}:${text}`).digest()
    for (let i = 0; i + 1 < digest.length && values.length < dimensions; i += 2) {
      values.push(digest.readUInt16LE(i) / 32767.5 - 1)
    }
  }
  const norm = Math.hypot(...values) || 1
  return values.map((v) => v / norm)
}

/** Arguments for a requested tool call: `key=value` pairs in the user's text, else typed placeholders. */
function argumentsFor(
  parameters: Record<string, unknown> | undefined,
  userText: string,
): Record<string, unknown> {
  const properties = (parameters?.['properties'] ?? {}) as Record<string, { type?: string }>
  const args: Record<string, unknown> = {}
  for (const [key, schema] of Object.entries(properties)) {
    const given = new RegExp(`\\b${key}=([^\\s,]+)`).exec(userText)?.[1]
    if (schema.type === 'number' || schema.type === 'integer') args[key] = given ? Number(given) : 1
    else if (schema.type === 'boolean') args[key] = given ? given === 'true' : true
    else args[key] = given ?? 'example'
  }
  return args
}

interface PlannedAnswer {
  text: string | null
  toolCalls: Array<{ id: string; name: string; arguments: string }>
  finishReason: 'stop' | 'tool_calls' | 'length'
}

function planChat(request: MockChatRequest, options: MockOpenAIOptions): PlannedAnswer {
  const { messages, tools, body } = request
  const last = messages[messages.length - 1]
  if (last?.role === 'tool') {
    return { text: `Tool result received: ${textOf(last.content)}`, toolCalls: [], finishReason: 'stop' }
  }
  const choice = body['tool_choice']
  let wanted: typeof tools = []
  if (tools.length > 0 && choice !== 'none') {
    if (choice && typeof choice === 'object') {
      const name = (choice as { function?: { name?: string } }).function?.name
      wanted = tools.filter((t) => t.function.name === name)
    } else {
      wanted = tools.filter((t) => request.lastUserText.includes(t.function.name))
      if (wanted.length === 0 && choice === 'required') wanted = tools.slice(0, 1)
    }
  }
  if (wanted.length > 0) {
    const toolCalls = wanted.map((tool, index) => ({
      id: `call_${messages.length}_${index}`,
      name: tool.function.name,
      arguments: JSON.stringify(argumentsFor(tool.function.parameters, request.lastUserText)),
    }))
    return { text: null, toolCalls, finishReason: 'tool_calls' }
  }
  let text = options.reply ? options.reply(request) : `Echo: ${request.lastUserText}`
  let finishReason: PlannedAnswer['finishReason'] = 'stop'
  const maxTokens = body['max_tokens'] ?? body['max_completion_tokens']
  if (typeof maxTokens === 'number' && countTokens(text) > maxTokens) {
    text = text.split(/\s+/).filter(Boolean).slice(0, maxTokens).join(' ')
    finishReason = 'length'
  }
  return { text, toolCalls: [], finishReason }
}

function usageOf(request: MockChatRequest, answer: PlannedAnswer) {
  const prompt = request.messages.reduce((sum, m) => sum + countTokens(textOf(m.content)), 0)
  const completion =
    countTokens(answer.text ?? '') + answer.toolCalls.reduce((sum, c) => sum + countTokens(c.arguments), 0)
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion }
}

/** Writes `text`, waiting while the client is not reading (TCP backpressure reaches the server). */
async function write(res: ServerResponse, text: string, counter: { bytes: number }): Promise<void> {
  if (res.destroyed) throw new Error('the client went away')
  counter.bytes += Buffer.byteLength(text)
  if (!res.write(text)) {
    await new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        res.off('drain', onDrain)
        res.off('close', onClose)
      }
      const onDrain = () => {
        cleanup()
        resolve()
      }
      const onClose = () => {
        cleanup()
        reject(new Error('the client went away'))
      }
      res.on('drain', onDrain)
      res.on('close', onClose)
    })
  }
}

function sseHead(res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  })
}

async function streamChat(
  res: ServerResponse,
  id: string,
  model: string,
  request: MockChatRequest,
  answer: PlannedAnswer,
  options: MockOpenAIOptions,
  counter: { bytes: number },
): Promise<void> {
  sseHead(res)
  const created = Math.floor(Date.now() / 1000)
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
  let index = 0
  const emit = async (text: string) => {
    if (options.chunkDelayMs) await new Promise((r) => setTimeout(r, options.chunkDelayMs))
    await options.beforeEvent?.(index++)
    await write(res, text, counter)
  }
  await emit(chunk({ role: 'assistant', content: '' }))
  if (answer.text) {
    for (const piece of answer.text.match(/\s*\S+/g) ?? []) await emit(chunk({ content: piece }))
  }
  // Parallel calls interleave their deltas, as OpenAI sends them.
  const halves = answer.toolCalls.map((call) => {
    const half = Math.ceil(call.arguments.length / 2)
    return [call.arguments.slice(0, half), call.arguments.slice(half)]
  })
  for (const [index, call] of answer.toolCalls.entries()) {
    await emit(
      chunk({
        tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }],
      }),
    )
  }
  for (const part of [0, 1]) {
    for (const [index, pieces] of halves.entries()) {
      await emit(chunk({ tool_calls: [{ index, function: { arguments: pieces[part] } }] }))
    }
  }
  await emit(chunk({}, answer.finishReason))
  const streamOptions = request.body['stream_options'] as { include_usage?: boolean } | undefined
  if (streamOptions?.include_usage) {
    await emit(
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage: usageOf(request, answer) })}\n\n`,
    )
  }
  await emit('data: [DONE]\n\n')
  res.end()
}

async function streamRaw(
  res: ServerResponse,
  script: { pieces: string[]; reset?: boolean },
  options: MockOpenAIOptions,
  counter: { bytes: number },
): Promise<void> {
  sseHead(res)
  for (const piece of script.pieces) {
    await new Promise((r) => setTimeout(r, options.chunkDelayMs ?? 5))
    await write(res, piece, counter)
  }
  if (script.reset) res.socket?.resetAndDestroy()
  else res.end()
}

/** Starts an OpenAI-compatible server on 127.0.0.1 (chat incl. streaming and tools, embeddings, completions, models). */
export async function startMockOpenAI(options: MockOpenAIOptions = {}): Promise<MockOpenAI> {
  const requests: RecordedRequest[] = []
  const sockets = new Set<Socket>()
  const models = options.models ?? ['mock-gpt-1', 'mock-embed-1']
  const failures: MockFailure[] = []
  const streamed = { bytes: 0 }
  let sequence = 0

  const delays = new Set<NodeJS.Timeout>()
  /** Waits `ms`; a wait still pending when the server closes never ends (its request is dropped),
   * so a long `latencyMs` does not keep the process alive after `close()`. */
  const delay = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        delays.delete(timer)
        resolve()
      }, ms)
      delays.add(timer)
    })

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    const body = await readBody(req)
    requests.push({ method: req.method ?? 'GET', path, headers: req.headers, body })
    if (options.latencyMs) await delay(options.latencyMs)
    const failure = failures.shift()
    if (failure) {
      const text = failure.body ?? JSON.stringify({ error: errorFor(failure.status) })
      res.writeHead(failure.status, { 'content-type': 'application/json', ...failure.headers })
      return res.end(text)
    }
    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      throw new HttpError(401, 'Incorrect API key provided.', 'invalid_api_key')
    }
    const json = (body ?? {}) as Record<string, unknown>
    const route = `${req.method} ${path}`
    if (route === 'GET /v1/models') {
      const created = 1_700_000_000
      return send(res, 200, {
        object: 'list',
        data: models.map((id) => ({ id, object: 'model', created, owned_by: 'modelport-mock' })),
      })
    }
    if (route === 'POST /v1/chat/completions') {
      if (typeof json['model'] !== 'string') throw new HttpError(400, 'you must provide a model parameter')
      if (!Array.isArray(json['messages']) || json['messages'].length === 0)
        throw new HttpError(400, "'messages' must be a non-empty array")
      const messages = json['messages'] as WireMessage[]
      const lastUser = [...messages].reverse().find((m) => m.role === 'user')
      const chat: MockChatRequest = {
        model: json['model'],
        messages,
        tools: (json['tools'] as MockChatRequest['tools'] | undefined) ?? [],
        lastUserText: textOf(lastUser?.content),
        body: json,
      }
      const answer = planChat(chat, options)
      const id = `chatcmpl-mock-${++sequence}`
      if (json['stream'] === true) {
        const raw = options.rawStream?.(chat)
        if (raw) return streamRaw(res, raw, options, streamed)
        return streamChat(res, id, chat.model, chat, answer, options, streamed)
      }
      return send(res, 200, {
        id,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: chat.model,
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: answer.text,
              ...(answer.toolCalls.length > 0 && {
                tool_calls: answer.toolCalls.map((c) => ({
                  id: c.id,
                  type: 'function',
                  function: { name: c.name, arguments: c.arguments },
                })),
              }),
            },
            finish_reason: answer.finishReason,
          },
        ],
        usage: usageOf(chat, answer),
      })
    }
    if (route === 'POST /v1/embeddings') {
      const input = json['input']
      const inputs = typeof input === 'string' ? [input] : Array.isArray(input) ? input.map(String) : null
      if (!inputs) throw new HttpError(400, "'input' must be a string or an array of strings")
      const dimensions =
        typeof json['dimensions'] === 'number' ? json['dimensions'] : (options.embeddingDimensions ?? 8)
      // OpenAI's two encodings: numbers, or the little-endian float32 bytes in base64 (what the
      // official clients ask for by default).
      const encoding = json['encoding_format'] ?? 'float'
      if (encoding !== 'float' && encoding !== 'base64')
        throw new HttpError(400, "'encoding_format' must be 'float' or 'base64'")
      const encode = (vector: number[]) => {
        if (encoding === 'float') return vector
        const bytes = Buffer.alloc(vector.length * 4)
        vector.forEach((value, i) => bytes.writeFloatLE(value, i * 4))
        return bytes.toString('base64')
      }
      return send(res, 200, {
        object: 'list',
        data: inputs.map((text, index) => ({
          object: 'embedding',
          index,
          embedding: encode(mockEmbedding(text, dimensions)),
        })),
        model: json['model'],
        usage: {
          prompt_tokens: inputs.reduce((s, t) => s + countTokens(t), 0),
          total_tokens: inputs.reduce((s, t) => s + countTokens(t), 0),
        },
      })
    }
    if (route === 'POST /v1/completions') {
      const prompt = String(json['prompt'] ?? '')
      let text = ` continues: ${prompt}`
      const maxTokens = json['max_tokens']
      if (typeof maxTokens === 'number')
        text = ' ' + text.split(/\s+/).filter(Boolean).slice(0, maxTokens).join(' ')
      return send(res, 200, {
        id: `cmpl-mock-${++sequence}`,
        object: 'text_completion',
        created: Math.floor(Date.now() / 1000),
        model: json['model'],
        choices: [{ text, index: 0, logprobs: null, finish_reason: 'stop' }],
        usage: {
          prompt_tokens: countTokens(prompt),
          completion_tokens: countTokens(text),
          total_tokens: countTokens(prompt) + countTokens(text),
        },
      })
    }
    if (route === 'POST /v1/audio/transcriptions') {
      // The mock's "recognizer": the audio file's bytes, read as UTF-8, are what was said.
      const file = json['file']
      if (!file || typeof file !== 'object' || !('bytes' in file)) {
        throw new HttpError(400, "a multipart form with a 'file' part is required")
      }
      if (typeof json['model'] !== 'string') throw new HttpError(400, 'you must provide a model parameter')
      const text = new TextDecoder().decode((file as MockUpload).bytes)
      if (json['response_format'] === 'text') {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
        return res.end(text)
      }
      return send(res, 200, { text })
    }
    if (route === 'POST /v1/audio/speech') {
      // The mock's "voice": the audio is the input text's UTF-8 bytes, typed by the asked format,
      // so speaking then transcribing gives the text back.
      if (typeof json['model'] !== 'string') throw new HttpError(400, 'you must provide a model parameter')
      if (typeof json['input'] !== 'string') throw new HttpError(400, "'input' must be a string")
      if (typeof json['voice'] !== 'string') throw new HttpError(400, "'voice' is required")
      const format = typeof json['response_format'] === 'string' ? json['response_format'] : 'mp3'
      const type = SPEECH_TYPES[format]
      if (!type) throw new HttpError(400, `unsupported response_format '${format}'`)
      const audio = Buffer.from(json['input'], 'utf8')
      res.writeHead(200, { 'content-type': type, 'content-length': audio.length })
      return res.end(audio)
    }
    throw new HttpError(404, `Unknown request URL: ${route}`)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500
      const type = error instanceof HttpError ? error.type : 'server_error'
      const message = error instanceof Error ? error.message : String(error)
      if (!res.headersSent) send(res, status, { error: { message, type, param: null, code: type } })
      else if (!res.destroyed) res.destroy()
    })
  })
  // Node closes a connection idle for 5 s by default, and it counts from its own clock: when the
  // process is too busy to read for that long (a loaded test worker, emulation), it closes one
  // whose next request already waits, and the client gets ECONNRESET for a request the server
  // never saw. Kept longer than clients keep idle connections (modelport 90 s), the client always
  // closes first.
  server.keepAliveTimeout = IDLE_CONNECTION_MS
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    openConnections: () => sockets.size,
    failNext: (...next) => failures.push(...next),
    streamedBytes: () => streamed.bytes,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of delays) clearTimeout(timer)
        delays.clear()
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
