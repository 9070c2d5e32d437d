// `modelport/gateway` driven by the official `openai` client (6.x): models, chat, streams with
// usage, tool calls, embeddings (base64 by default, and float), completions, auth, an upstream
// 429 passed through, and the refusal to listen beyond loopback without keys. The AI SDK's own
// OpenAI-compatible provider (`@ai-sdk/openai-compatible`) through the gateway too.
import { createOpenAICompatible } from '@ai-sdk/openai-compatible'
import test, { type ExecutionContext } from 'ava'
import { APICallError, embedMany, generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai'
import { type ModelportError, PluginRegistry } from 'modelport'
import { type GatewayOptions, serve } from 'modelport/gateway'
import { startMockOpenAI, type MockOpenAI, type MockOpenAIOptions } from 'modelport/testing'
import OpenAI from 'openai'

import { eventually, openaiEntry, tempDir } from './helpers'

async function setup(
  t: ExecutionContext,
  options: {
    apiKeys?: string[]
    maxRetries?: number
    mock?: MockOpenAIOptions
    gateway?: Partial<GatewayOptions>
  } = {},
) {
  const mock = await startMockOpenAI(options.mock)
  t.teardown(() => mock.close())
  const registry = await PluginRegistry.fromConfig({
    providers: [{ ...openaiEntry(mock.url), max_retries: options.maxRetries ?? 2 }],
    cache_dir: tempDir(),
  })
  t.teardown(() => registry.close())
  const gateway = await serve({
    registry,
    port: 0,
    ...(options.apiKeys ? { apiKeys: options.apiKeys } : {}),
    ...options.gateway,
  })
  t.teardown(() => gateway.close())
  const client = new OpenAI({
    baseURL: `${gateway.url}/v1`,
    apiKey: options.apiKeys?.[0] ?? 'none',
    maxRetries: 0,
  })
  return { mock, registry, gateway, client }
}

function upstreamChats(mock: MockOpenAI) {
  return mock.requests.filter((r) => r.path.endsWith('/chat/completions'))
}

const weather = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
}

test('models, chat and completions through the openai client', async (t) => {
  const { client, mock } = await setup(t)
  const models = await client.models.list()
  t.deepEqual(
    models.data.map((m) => m.id),
    ['openai:mock-gpt-1', 'openai:mock-embed-1'],
  )
  const answer = await client.chat.completions.create({
    model: 'openai:mock-gpt-1',
    messages: [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'hello gateway' },
    ],
    temperature: 0.3,
    max_tokens: 20,
  })
  t.is(answer.choices[0]?.message.content, 'Echo: hello gateway')
  t.is(answer.choices[0]?.finish_reason, 'stop')
  t.true((answer.usage?.prompt_tokens ?? 0) > 0)
  const sent = upstreamChats(mock).at(-1)!.body as Record<string, unknown>
  t.is(sent['temperature'], 0.3)
  t.is(sent['max_tokens'], 20)
  const completion = await client.completions.create({ model: 'openai', prompt: 'one two', max_tokens: 5 })
  t.is(completion.choices[0]?.text, ' continues: one two')
})

test('a stream with stream_options.include_usage, and tool calls whole and streamed', async (t) => {
  const { client } = await setup(t)
  const stream = await client.chat.completions.create({
    model: 'openai',
    messages: [{ role: 'user', content: 'stream this please' }],
    stream: true,
    stream_options: { include_usage: true },
  })
  let text = ''
  let usage: OpenAI.CompletionUsage | null | undefined
  let finish: string | null | undefined
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? ''
    finish = chunk.choices[0]?.finish_reason ?? finish
    if (chunk.usage) usage = chunk.usage
  }
  t.is(text, 'Echo: stream this please')
  t.is(finish, 'stop')
  t.true((usage?.completion_tokens ?? 0) > 0)

  const called = await client.chat.completions.create({
    model: 'openai',
    messages: [{ role: 'user', content: 'get_weather city=Oslo' }],
    tools: [weather],
  })
  const call = called.choices[0]?.message.tool_calls?.[0]
  t.is(called.choices[0]?.finish_reason, 'tool_calls')
  t.is(call?.type === 'function' ? call.function.name : undefined, 'get_weather')
  t.deepEqual(JSON.parse(call?.type === 'function' ? call.function.arguments : '{}'), { city: 'Oslo' })

  const runner = client.chat.completions.stream({
    model: 'openai',
    messages: [{ role: 'user', content: 'get_weather city=Bergen' }],
    tools: [weather],
  })
  const final = await runner.finalChatCompletion()
  const streamed = final.choices[0]?.message.tool_calls?.[0]
  t.deepEqual(JSON.parse(streamed?.type === 'function' ? streamed.function.arguments : '{}'), {
    city: 'Bergen',
  })

  const answered = await client.chat.completions.create({
    model: 'openai',
    messages: [
      { role: 'user', content: 'get_weather city=Oslo' },
      { role: 'assistant', content: null, tool_calls: called.choices[0]!.message.tool_calls! },
      { role: 'tool', tool_call_id: call!.id, content: 'rainy' },
    ],
    tools: [weather],
  })
  t.is(answered.choices[0]?.message.content, 'Tool result received: rainy')
})

test('embeddings: base64 (the client default) and float give the provider’s vectors', async (t) => {
  const { client, registry } = await setup(t)
  const direct = await (await registry.builder('openai').build()).embed(['a', 'b'])
  const expected = direct.map((v) => Array.from(v))
  const byDefault = await client.embeddings.create({ model: 'openai', input: ['a', 'b'] })
  t.deepEqual(
    byDefault.data.map((d) => d.embedding),
    expected,
  )
  const floats = await client.embeddings.create({
    model: 'openai',
    input: ['a', 'b'],
    encoding_format: 'float',
  })
  t.deepEqual(
    floats.data.map((d) => d.embedding),
    expected,
  )
})

test('a wrong key is 401; an upstream 429 passes through with retry-after; an unknown model is 404', async (t) => {
  const { gateway, mock, client } = await setup(t, { apiKeys: ['sk-gateway'], maxRetries: 0 })
  const wrong = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-wrong', maxRetries: 0 })
  const denied = await t.throwsAsync(
    wrong.chat.completions.create({ model: 'openai', messages: [{ role: 'user', content: 'x' }] }),
  )
  t.true(denied instanceof OpenAI.AuthenticationError)
  t.is(upstreamChats(mock).length, 0)

  mock.failNext({ status: 429, headers: { 'retry-after': '3' } })
  const limited = await t.throwsAsync(
    client.chat.completions.create({ model: 'openai', messages: [{ role: 'user', content: 'x' }] }),
  )
  t.true(limited instanceof OpenAI.RateLimitError)
  t.is((limited as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after'), '3')

  const missing = await t.throwsAsync(
    client.chat.completions.create({ model: 'nope:x', messages: [{ role: 'user', content: 'x' }] }),
  )
  t.true(missing instanceof OpenAI.NotFoundError)
})

test('without API keys the gateway listens on loopback only', async (t) => {
  const registry = await PluginRegistry.fromConfig({ providers: [], cache_dir: tempDir() })
  t.teardown(() => registry.close())
  const refused = await t.throwsAsync(serve({ registry, host: '0.0.0.0', port: 0, apiKeys: [] }))
  t.is((refused as ModelportError).code, 'CONFIG_INVALID')
  t.regex(refused?.message ?? '', /without API keys/)
})

test('healthz, metrics, a body over the limit (413), and requests over the concurrency limit (429 + retry-after)', async (t) => {
  let release!: () => void
  const held = new Promise<void>((resolve) => (release = resolve))
  const { gateway, client, mock } = await setup(t, {
    mock: { beforeEvent: (index) => (index === 1 ? held : undefined) },
    gateway: { maxConcurrentRequests: 1, maxBodyBytes: 4096 },
  })
  const health = await fetch(`${gateway.url}/healthz`)
  t.is(health.status, 200)
  t.is(((await health.json()) as { status: string }).status, 'ok')

  const tooBig = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'openai', messages: [{ role: 'user', content: 'x'.repeat(10_000) }] }),
  })
  t.is(tooBig.status, 413)

  // A stream the upstream holds after its first event keeps the one slot busy (the gateway answers
  // its headers with the first event it can tell, so the client's call is not awaited yet).
  const reading = (async () => {
    const first = await client.chat.completions.create({
      model: 'openai',
      messages: [{ role: 'user', content: 'hold me' }],
      stream: true,
    })
    let text = ''
    for await (const chunk of first) text += chunk.choices[0]?.delta.content ?? ''
    return text
  })()
  t.true(await eventually(() => upstreamChats(mock).length === 1))
  const busy = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'openai', messages: [{ role: 'user', content: 'me too' }] }),
  })
  t.is(busy.status, 429)
  t.is(busy.headers.get('retry-after'), '1')
  release()
  t.is(await reading, 'Echo: hold me')

  const metrics = await (await fetch(`${gateway.url}/metrics`)).text()
  t.regex(metrics, /modelport_gateway_requests_total\{route="POST \/chat\/completions",status="200"\} 1/)
  t.regex(metrics, /modelport_gateway_requests_total\{route="POST \/chat\/completions",status="429"\} 1/)
  t.regex(
    metrics,
    /modelport_gateway_errors_total\{route="POST \/chat\/completions",code="request_too_large"\} 1/,
  )
  t.regex(metrics, /modelport_gateway_request_duration_seconds_count\{route="POST \/chat\/completions"\} 3/)
})

test('a client that disconnects mid-stream aborts the upstream call', async (t) => {
  let release!: () => void
  const held = new Promise<void>((resolve) => (release = resolve))
  t.teardown(() => release())
  const { client, mock } = await setup(t, {
    mock: { beforeEvent: (index) => (index === 2 ? held : undefined) },
  })
  const controller = new AbortController()
  const stream = await client.chat.completions.create(
    { model: 'openai', messages: [{ role: 'user', content: 'a long answer please' }], stream: true },
    { signal: controller.signal },
  )
  const iterator = stream[Symbol.asyncIterator]()
  await iterator.next()
  t.true(await eventually(() => mock.openConnections() > 0))
  controller.abort()
  // The gateway closes its upstream connection although the upstream never finished.
  t.true(await eventually(() => mock.openConnections() === 0))
})

test('the AI SDK’s @ai-sdk/openai-compatible through the gateway: generateText, streamText with a tool over two steps, embedMany, a 401', async (t) => {
  const { gateway, mock } = await setup(t, { apiKeys: ['sk-gateway'] })
  const compatible = createOpenAICompatible({
    name: 'modelport-gateway',
    baseURL: `${gateway.url}/v1`,
    apiKey: 'sk-gateway',
    includeUsage: true,
  })
  const answer = await generateText({
    model: compatible.chatModel('openai:mock-gpt-1'),
    prompt: 'hello compatible',
    temperature: 0.2,
  })
  t.is(answer.text, 'Echo: hello compatible')
  t.is(answer.finishReason, 'stop')
  t.true((answer.usage.outputTokens ?? 0) > 0)
  t.is((upstreamChats(mock).at(-1)!.body as Record<string, unknown>)['temperature'], 0.2)

  const asked: string[] = []
  const result = streamText({
    model: compatible.chatModel('openai'),
    prompt: 'get_weather city=Oslo',
    tools: {
      get_weather: tool({
        description: 'Weather for a city',
        inputSchema: jsonSchema<{ city: string }>({
          type: 'object',
          properties: { city: { type: 'string' } },
          required: ['city'],
        }),
        execute: async ({ city }) => {
          asked.push(city)
          return 'rainy'
        },
      }),
    },
    stopWhen: stepCountIs(2),
  })
  t.is(await result.text, 'Tool result received: rainy')
  t.deepEqual(asked, ['Oslo'])
  t.is((await result.steps).length, 2)
  t.true(((await result.totalUsage).outputTokens ?? 0) > 0)

  const { embeddings } = await embedMany({
    model: compatible.textEmbeddingModel('openai'),
    values: ['a', 'b', 'c'],
  })
  t.is(embeddings.length, 3)
  t.true(embeddings.every((vector) => vector.length > 0))

  const wrong = createOpenAICompatible({ name: 'wrong', baseURL: `${gateway.url}/v1`, apiKey: 'sk-wrong' })
  const denied = await t.throwsAsync(
    generateText({ model: wrong.chatModel('openai'), prompt: 'x', maxRetries: 0 }),
  )
  t.true(APICallError.isInstance(denied))
  t.is((denied as APICallError).statusCode, 401)
})
