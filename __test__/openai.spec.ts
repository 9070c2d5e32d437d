import test, { type ExecutionContext } from 'ava'
import { PluginRegistry, type Provider, type ToolDefinition } from 'modelport'
import { startMockOpenAI, type MockOpenAI } from 'modelport/testing'

import { failure, openaiEntry, SLACK_MS, SLOW_PATH_MS, timed } from './helpers'

async function setup(t: ExecutionContext, config: Record<string, unknown> = {}, server?: MockOpenAI) {
  const mock = server ?? (await startMockOpenAI())
  if (!server) t.teardown(() => mock.close())
  const registry = await PluginRegistry.fromConfig({ providers: [openaiEntry(mock.url, config)] })
  return { mock, registry, provider: await registry.builder('openai').build() }
}

/** The JSON body of the last request the server received. */
function lastBody<T>(mock: MockOpenAI): T {
  const request = mock.requests.at(-1)
  if (!request) throw new Error('the server received no request')
  return request.body as T
}

const weather: ToolDefinition = {
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
}

test('chat through the openai plugin against the embedded server', async (t) => {
  const { mock, provider } = await setup(t)
  const response = await provider.chat([{ role: 'user', content: 'hello there' }])
  t.is(response.text, 'Echo: hello there')
  t.is(response.finishReason, 'stop')
  t.deepEqual(response.toolCalls, [])
  t.deepEqual(response.usage, { inputTokens: 2, outputTokens: 3 })
  const sent = mock.requests.at(-1)
  t.is(sent?.path, '/v1/chat/completions')
  t.deepEqual(sent?.body, { model: 'mock-gpt-1', messages: [{ role: 'user', content: 'hello there' }] })
})

test('builder fields and system prompts (builder and per call) reach the request', async (t) => {
  const mock = await startMockOpenAI({ apiKey: 'sk-builder' })
  t.teardown(() => mock.close())
  const registry = await PluginRegistry.fromConfig({ providers: [openaiEntry(mock.url)] })
  const provider = await registry
    .builder('openai')
    .model('other-model')
    .apiKey('sk-builder')
    .system('be brief')
    .parameter('temperature', 0.5)
    .parameters({ max_tokens: 50 })
    .build()
  await provider.chat([
    { role: 'system', content: 'answer in French' },
    { role: 'user', content: 'hi' },
  ])
  const sent = mock.requests.at(-1)
  t.is(sent?.headers['authorization'], 'Bearer sk-builder')
  t.like(sent?.body, { model: 'other-model', temperature: 0.5, max_tokens: 50 })
  t.deepEqual(lastBody<{ messages: unknown[] }>(mock).messages, [
    { role: 'system', content: 'be brief' },
    { role: 'system', content: 'answer in French' },
    { role: 'user', content: 'hi' },
  ])
})

test('embed returns one Float32Array per input, in order', async (t) => {
  const { mock, provider } = await setup(t, { embedding_model: 'mock-embed-1' })
  const vectors = await provider.embed(['alpha', 'beta', 'alpha'])
  t.is(vectors.length, 3)
  t.true(vectors.every((v) => v instanceof Float32Array && v.length === 8))
  t.deepEqual(vectors[0], vectors[2])
  t.notDeepEqual(vectors[0], vectors[1])
  t.like(mock.requests.at(-1)?.body, { model: 'mock-embed-1', input: ['alpha', 'beta', 'alpha'] })
})

test('complete and listModels', async (t) => {
  const { mock, registry, provider } = await setup(t)
  t.deepEqual(await provider.complete({ prompt: 'once upon a time', maxTokens: 4 }), {
    text: ' continues: once upon a',
  })
  t.like(mock.requests.at(-1)?.body, { prompt: 'once upon a time', max_tokens: 4 })
  t.deepEqual(await registry.listModels('openai'), ['mock-gpt-1', 'mock-embed-1'])
})

test('tool calls come back and a multi-turn tool loop completes', async (t) => {
  const { mock, provider } = await setup(t)
  const tools = [
    weather,
    { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string' } } } },
  ]
  const first = await provider.chat(
    [{ role: 'user', content: 'get_weather city=Oslo and get_time zone=CET' }],
    { tools },
  )
  t.is(first.finishReason, 'toolCalls')
  t.deepEqual(
    first.toolCalls.map((c) => [c.name, JSON.parse(c.arguments)]),
    [
      ['get_weather', { city: 'Oslo' }],
      ['get_time', { zone: 'CET' }],
    ],
  )
  const sentTools = lastBody<{ tools: unknown[] }>(mock).tools
  t.deepEqual(sentTools[0], {
    type: 'function',
    function: { name: 'get_weather', description: 'Weather for a city', parameters: weather.parameters },
  })

  const second = await provider.chat(
    [
      { role: 'user', content: 'get_weather city=Oslo and get_time zone=CET' },
      { role: 'assistant', content: first.text, toolCalls: first.toolCalls },
      { role: 'tool', toolCallId: first.toolCalls[0]!.id, content: 'rainy' },
      { role: 'tool', toolCallId: first.toolCalls[1]!.id, content: '12:00' },
    ],
    { tools },
  )
  t.is(second.text, 'Tool result received: 12:00')
  const messages = lastBody<{ messages: Array<Record<string, unknown>> }>(mock).messages
  t.deepEqual(messages.slice(1), [
    {
      role: 'assistant',
      content: null,
      tool_calls: first.toolCalls.map((c) => ({
        id: c.id,
        type: 'function',
        function: { name: c.name, arguments: c.arguments },
      })),
    },
    { role: 'tool', tool_call_id: first.toolCalls[0]!.id, content: 'rainy' },
    { role: 'tool', tool_call_id: first.toolCalls[1]!.id, content: '12:00' },
  ])
})

test('tool_choice from the config is sent and honoured', async (t) => {
  const { mock, provider } = await setup(t, { tool_choice: 'required' })
  const response = await provider.chat([{ role: 'user', content: 'anything' }], { tools: [weather] })
  t.is(response.toolCalls[0]?.name, 'get_weather')
  t.is(lastBody<{ tool_choice: string }>(mock).tool_choice, 'required')
})

test('401 is AUTH, 400 is INVALID_REQUEST, both with status and the server message', async (t) => {
  const mock = await startMockOpenAI({ apiKey: 'right' })
  t.teardown(() => mock.close())
  const { provider } = await setup(t, { api_key: 'wrong' }, mock)
  const auth = await failure(t, provider.chat([{ role: 'user', content: 'x' }]))
  t.is(auth?.code, 'AUTH')
  t.is(auth?.status, 401)
  t.is(auth?.plugin, 'openai')
  t.regex(auth?.message ?? '', /Incorrect API key/)
  const { provider: good } = await setup(t, { api_key: 'right' }, mock)
  const bad = await failure(t, good.chat([]))
  t.is(bad?.code, 'INVALID_REQUEST')
  t.is(bad?.status, 400)
})

test('a non-OpenAI upstream error is HTTP_STATUS with a body excerpt; 429 is RATE_LIMITED with retryAfterMs', async (t) => {
  const http = await import('node:http')
  let status = 503
  const server = http.createServer((_req, res) => {
    res.writeHead(status, { 'retry-after-ms': '1500', 'content-type': 'text/plain' })
    res.end('upstream is having a bad day')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const port = (server.address() as { port: number }).port
  const registry = await PluginRegistry.fromConfig({
    providers: [openaiEntry(`http://127.0.0.1:${port}/v1`)],
  })
  const provider: Provider = await registry.builder('openai').build()
  const unavailable = await failure(t, provider.chat([{ role: 'user', content: 'x' }]))
  t.is(unavailable?.code, 'HTTP_STATUS')
  t.is(unavailable?.status, 503)
  t.regex(unavailable?.message ?? '', /bad day/)
  status = 429
  const limited = await failure(t, provider.chat([{ role: 'user', content: 'x' }]))
  t.is(limited?.code, 'RATE_LIMITED')
  t.is(limited?.retryAfterMs, 1500)
})

test.serial('transport failures: refused connection, request timeout, response over the cap', async (t) => {
  const refused = await PluginRegistry.fromConfig({ providers: [openaiEntry('http://127.0.0.1:9/v1')] })
  const transport = await failure(
    t,
    (await refused.builder('openai').build()).chat([{ role: 'user', content: 'x' }]),
  )
  t.is(transport?.code, 'TRANSPORT')
  t.is(transport?.plugin, 'openai')

  // A URL that carries secrets (user information, a key in the query) is shown without them.
  const keyed = await PluginRegistry.fromConfig({
    providers: [openaiEntry('http://user:sk-userinfo-secret@127.0.0.1:9/v1?key=sk-query-secret')],
  })
  const redacted = await failure(
    t,
    (await keyed.builder('openai').build()).chat([{ role: 'user', content: 'x' }]),
  )
  t.is(redacted?.code, 'TRANSPORT')
  const shown = [redacted?.message, ...(redacted?.causes ?? []), String(redacted?.stack)].join('\n')
  t.false(/sk-userinfo-secret|sk-query-secret/.test(shown), shown)
  t.regex(redacted?.message ?? '', /127\.0\.0\.1:9/)

  const slow = await startMockOpenAI({ latencyMs: SLOW_PATH_MS })

  t.teardown(() => slow.close())
  const registry = await PluginRegistry.fromConfig({
    providers: [{ ...openaiEntry(slow.url), request_timeout_ms: 150 }],
  })
  const provider = await registry.builder('openai').build()
  const [timeout, ms] = await timed(() => failure(t, provider.chat([{ role: 'user', content: 'x' }])))
  t.is(timeout?.code, 'TIMEOUT')
  t.true(ms >= 150 && ms < 150 + SLACK_MS, `${ms} ms (the answer was a minute away)`)

  const big = await startMockOpenAI({ reply: () => 'word '.repeat(50_000) })

  t.teardown(() => big.close())
  const capped = await PluginRegistry.fromConfig({
    providers: [{ ...openaiEntry(big.url), max_response_bytes: 10_000 }],
  })
  const tooLarge = await failure(
    t,
    (await capped.builder('openai').build()).chat([{ role: 'user', content: 'x' }]),
  )
  t.is(tooLarge?.code, 'RESPONSE_TOO_LARGE')
})

test('bad input is INVALID_REQUEST before anything is sent', async (t) => {
  const { mock, provider } = await setup(t)
  const before = mock.requests.length
  // @ts-expect-error: a wrong role, as untyped callers might send
  t.is((await failure(t, provider.chat([{ role: 'robot', content: 'x' }])))?.code, 'INVALID_REQUEST')
  const badArgs = await failure(
    t,
    provider.chat([{ role: 'assistant', toolCalls: [{ id: '1', name: 'f', arguments: '{not json' }] }]),
  )
  t.is(badArgs?.code, 'INVALID_REQUEST')
  // @ts-expect-error: a tool message needs toolCallId
  t.is((await failure(t, provider.chat([{ role: 'tool', content: 'x' }])))?.code, 'INVALID_REQUEST')
  const badPart = await failure(
    t,
    // @ts-expect-error: a part type that does not exist
    provider.chat([{ role: 'user', content: [{ type: 'video', url: 'https://example.com/v.mp4' }] }]),
  )
  t.is(badPart?.code, 'INVALID_REQUEST')
  t.regex(badPart?.message ?? '', /video|type/)
  const badTool = await failure(
    t,
    provider.chat([{ role: 'user', content: 'x' }], {
      // @ts-expect-error: neither tool shape
      tools: [{ description: 'no name' }],
    }),
  )
  t.is(badTool?.code, 'INVALID_REQUEST')
  t.regex(badTool?.message ?? '', /tools\[0\]/)
  t.is(mock.requests.length, before)
})
