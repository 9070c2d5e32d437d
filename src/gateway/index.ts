// `modelport/gateway`: an OpenAI-compatible HTTP gateway over a registry's providers.
//   const gateway = await serve({ registry, port: 0 })   // → { url, close() }
// Routes, with and without `/v1`: GET /models, POST /chat/completions (streaming too),
// POST /embeddings, POST /completions; GET /healthz and GET /metrics (Prometheus).
import { timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

import { ModelportError } from '../errors'
import type { Provider } from '../provider'
import { PluginRegistry } from '../registry'
import type { ChatResponse, ChatStreamEvent, FinishReason, RegistryConfig, Usage } from '../types'
import { errorResponse, GatewayError } from './errors'
import { GatewayMetrics } from './metrics'
import { chatRequestOf, embeddingInputsOf, routeOf } from './openai-request'

export interface GatewayOptions {
  /** A loaded registry (you close it), or a config the gateway loads (and closes on `close()`). */
  registry?: PluginRegistry
  config?: RegistryConfig
  /** Address to listen on (default 127.0.0.1). Without API keys, only a loopback address is allowed. */
  host?: string
  /** Port (default 8080; 0 picks a free one). */
  port?: number
  /** Bearer keys a request must carry (default: `MODELPORT_GATEWAY_API_KEYS`, comma-separated). */
  apiKeys?: string[]
  /** Largest request body, in bytes (default 10 MiB): larger is 413. */
  maxBodyBytes?: number
  /** Requests handled at once (default 256): more get 429 with `retry-after`. */
  maxConcurrentRequests?: number
}

export interface Gateway {
  /** `http://host:port` (append `/v1` for OpenAI clients). */
  readonly url: string
  /** Stops accepting requests, waits for those in flight, then closes a registry it loaded. */
  close(): Promise<void>
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost'])
const ROUTES = new Set([
  'GET /models',
  'POST /chat/completions',
  'POST /embeddings',
  'POST /completions',
  'GET /healthz',
  'GET /metrics',
])
const FINISH: Record<FinishReason, string> = {
  stop: 'stop',
  length: 'length',
  toolCalls: 'tool_calls',
  contentFilter: 'content_filter',
  error: 'stop',
  other: 'stop',
  unknown: 'stop',
}

function usageOf(usage: Usage | null) {
  const input = usage?.inputTokens ?? 0
  const output = usage?.outputTokens ?? 0
  return { prompt_tokens: input, completion_tokens: output, total_tokens: input + output }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  res.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/plain; version=0.0.4' : 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  })
  res.end(text)
}

async function readJson(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit)
      throw new GatewayError(413, `the request body is over ${limit} bytes`, 'request_too_large')
    chunks.push(chunk)
  }
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object')
    return value as Record<string, unknown>
  } catch (error) {
    throw new GatewayError(
      400,
      `the request body is not a JSON object: ${(error as Error).message}`,
      'invalid_json',
    )
  }
}

export async function serve(options: GatewayOptions): Promise<Gateway> {
  if (!options.registry === !options.config)
    throw new ModelportError({
      code: 'CONFIG_INVALID',
      message: 'serve() takes a registry or a config, one of them',
    })
  const host = options.host ?? '127.0.0.1'
  const keys = (options.apiKeys ?? process.env['MODELPORT_GATEWAY_API_KEYS']?.split(',') ?? [])
    .map((key) => key.trim())
    .filter(Boolean)
    .map((key) => Buffer.from(key))
  if (keys.length === 0 && !LOOPBACK.has(host))
    throw new ModelportError({
      code: 'CONFIG_INVALID',
      message: `refusing to listen on ${host} without API keys (apiKeys or MODELPORT_GATEWAY_API_KEYS); without keys only a loopback address`,
    })
  const ownRegistry = options.registry ? undefined : await PluginRegistry.fromConfig(options.config!)
  const registry = options.registry ?? ownRegistry!
  // Every plugin loaded up front: /v1/models lists them, and a broken one shows in /healthz.
  await registry.loadAll()
  const maxBody = options.maxBodyBytes ?? 10 * 2 ** 20
  const maxConcurrent = options.maxConcurrentRequests ?? 256
  const metrics = new GatewayMetrics()
  const providers = new Map<string, Promise<Provider>>()
  let inFlight = 0
  /** When the gateway started: the `created` of the models it lists. */
  const startedAt = Math.floor(Date.now() / 1000)
  let sequence = 0

  const providerFor = (model: unknown) => {
    const route = routeOf(model)
    const key = `${route.provider}:${route.model ?? ''}`
    let built = providers.get(key)
    if (!built) {
      const builder = registry.builder(route.provider)
      built = (route.model === undefined ? builder : builder.model(route.model)).build()
      built.catch(() => providers.delete(key))
      providers.set(key, built)
    }
    return built
  }

  const authorized = (req: IncomingMessage) => {
    if (keys.length === 0) return true
    const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
    if (!given) return false
    const bytes = Buffer.from(given)
    return keys.some((key) => key.length === bytes.length && timingSafeEqual(key, bytes))
  }

  async function chat(body: Record<string, unknown>, res: ServerResponse, signal: AbortSignal) {
    const { messages, options: settings, stream, includeUsage } = chatRequestOf(body)
    const provider = await providerFor(body['model'])
    const model = String(body['model'])
    const id = `chatcmpl-${Date.now().toString(36)}${(++sequence).toString(36)}`
    const created = Math.floor(Date.now() / 1000)
    if (!stream) {
      const answer: ChatResponse = await provider.chat(messages, { ...settings, signal })
      if (answer.usage) {
        metrics.tokens(model, 'input', answer.usage.inputTokens)
        metrics.tokens(model, 'output', answer.usage.outputTokens)
      }
      return send(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: answer.text,
              ...(answer.toolCalls.length > 0
                ? {
                    tool_calls: answer.toolCalls.map((call) => ({
                      id: call.id,
                      type: 'function',
                      function: { name: call.name, arguments: call.arguments },
                    })),
                  }
                : {}),
            },
            finish_reason: FINISH[answer.finishReason ?? 'stop'],
          },
        ],
        usage: usageOf(answer.usage),
      })
    }
    const events = provider.chatStream(messages, { ...settings, signal })
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
    let usage: Usage | null = null
    let started = false
    const start = () => {
      if (started) return
      started = true
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      })
      res.write(chunk({ role: 'assistant', content: '' }))
    }
    try {
      for await (const event of events as AsyncIterable<ChatStreamEvent>) {
        start()
        switch (event.type) {
          case 'text':
            res.write(chunk({ content: event.text }))
            break
          case 'thinking':
            res.write(chunk({ reasoning_content: event.text }))
            break
          case 'toolUseStart':
            res.write(
              chunk({
                tool_calls: [
                  {
                    index: event.index,
                    id: event.id,
                    type: 'function',
                    function: { name: event.name, arguments: '' },
                  },
                ],
              }),
            )
            break
          case 'toolUseInputDelta':
            res.write(
              chunk({ tool_calls: [{ index: event.index, function: { arguments: event.partialJson } }] }),
            )
            break
          case 'usage':
            usage = event.usage
            break
          case 'done':
            res.write(chunk({}, FINISH[event.finishReason]))
            break
          default:
            break
        }
      }
    } catch (error) {
      if (!started) throw error
      // Headers are gone: the failure goes as an error event, then the stream ends.
      res.write(`data: ${JSON.stringify(errorResponse(error).body)}\n\n`)
      res.end()
      throw Object.assign(error as object, { reported: true })
    }
    start()
    if (usage) {
      metrics.tokens(model, 'input', usage.inputTokens)
      metrics.tokens(model, 'output', usage.outputTokens)
    }
    if (includeUsage)
      res.write(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage: usageOf(usage) })}\n\n`,
      )
    res.end('data: [DONE]\n\n')
  }

  async function embeddings(body: Record<string, unknown>, res: ServerResponse, signal: AbortSignal) {
    const { inputs, base64 } = embeddingInputsOf(body)
    const provider = await providerFor(body['model'])
    const vectors = await provider.embed(inputs, { signal })
    send(res, 200, {
      object: 'list',
      model: body['model'],
      data: vectors.map((vector, index) => ({
        object: 'embedding',
        index,
        embedding: base64
          ? Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64')
          : Array.from(vector),
      })),
      usage: { prompt_tokens: 0, total_tokens: 0 },
    })
  }

  async function completions(body: Record<string, unknown>, res: ServerResponse, signal: AbortSignal) {
    if (typeof body['prompt'] !== 'string')
      throw new GatewayError(400, "'prompt' must be a string", 'invalid_request_error')
    const provider = await providerFor(body['model'])
    const answer = await provider.complete(
      {
        prompt: body['prompt'],
        ...(typeof body['suffix'] === 'string' ? { suffix: body['suffix'] } : {}),
        ...(typeof body['max_tokens'] === 'number' ? { maxTokens: body['max_tokens'] } : {}),
        ...(typeof body['temperature'] === 'number' ? { temperature: body['temperature'] } : {}),
      },
      { signal },
    )
    send(res, 200, {
      id: `cmpl-${Date.now().toString(36)}${(++sequence).toString(36)}`,
      object: 'text_completion',
      created: Math.floor(Date.now() / 1000),
      model: body['model'],
      choices: [{ index: 0, text: answer.text, finish_reason: 'stop', logprobs: null }],
      usage: usageOf(null),
    })
  }

  async function models(res: ServerResponse, signal: AbortSignal) {
    const data: Array<{ id: string; object: 'model'; created: number; owned_by: string }> = []
    for (const plugin of registry.list()) {
      const listed = await registry.listModels(plugin.name, { signal }).catch(() => [] as string[])
      for (const model of listed)
        data.push({
          id: `${plugin.name}:${model}`,
          object: 'model',
          created: startedAt,
          owned_by: plugin.name,
        })
      if (listed.length === 0)
        data.push({ id: plugin.name, object: 'model', created: startedAt, owned_by: plugin.name })
    }
    send(res, 200, { object: 'list', data })
  }

  const server = createServer((req, res) => {
    const started = process.hrtime.bigint()
    const path = (req.url ?? '/').split('?')[0]!.replace(/^\/v1(?=\/)/, '')
    // Metrics label only known routes: a label per arbitrary path would grow without bound.
    const known = `${req.method} ${path}`
    const route = ROUTES.has(known) ? known : 'other'
    const controller = new AbortController()
    // A client that goes away aborts the upstream call.
    res.on('close', () => {
      if (!res.writableFinished) controller.abort()
    })
    const finish = (status: number) =>
      metrics.request(route, status, Number(process.hrtime.bigint() - started) / 1e9)
    res.on('finish', () => finish(res.statusCode))
    const fail = (error: unknown) => {
      const reported = (error as { reported?: boolean } | null)?.reported
      const { status, headers, body } = errorResponse(error)
      metrics.error(route, body.error.code)
      if (!reported && !res.headersSent) send(res, status, body, headers)
      else if (!res.writableEnded) res.end()
    }
    ;(async () => {
      if (known === 'GET /healthz') {
        const health = await registry.health()
        const ok = Object.values(health).every((h) => h.healthy)
        return send(res, ok ? 200 : 503, { status: ok ? 'ok' : 'unhealthy', plugins: health })
      }
      if (known === 'GET /metrics') return send(res, 200, metrics.render())
      if (!authorized(req))
        throw new GatewayError(
          401,
          'a valid API key is required (Authorization: Bearer …)',
          'invalid_api_key',
        )
      if (inFlight >= maxConcurrent)
        throw new GatewayError(429, `over ${maxConcurrent} requests at once`, 'too_many_requests', {
          'retry-after': '1',
        })
      inFlight++
      try {
        if (known === 'GET /models') return await models(res, controller.signal)
        if (req.method !== 'POST' || !['/chat/completions', '/embeddings', '/completions'].includes(path))
          throw new GatewayError(404, `no route ${known}`, 'not_found')
        const body = await readJson(req, maxBody)
        if (path === '/chat/completions') return await chat(body, res, controller.signal)
        if (path === '/embeddings') return await embeddings(body, res, controller.signal)
        return await completions(body, res, controller.signal)
      } finally {
        inFlight--
      }
    })().catch(fail)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 8080, host, () => resolve())
  })
  const address = server.address() as AddressInfo
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address
  let closing: Promise<void> | undefined
  return {
    url: `http://${shown}:${address.port}`,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeIdleConnections()
        })
        await ownRegistry?.close()
      })()
      return closing
    },
  }
}

export { GatewayError } from './errors'
