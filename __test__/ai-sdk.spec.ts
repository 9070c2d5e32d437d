// `modelport/ai-sdk` driven by the real AI SDK: generateText, streamText with a tool over two steps,
// embedMany, abort and errors, against the native and the Wasm openai plugins on the embedded
// OpenAI-compatible server. The `ai` package is the repo's (6) unless MODELPORT_AI_SDK names another
// copy: scripts/ai-sdk-next.mjs runs this file on Node 22 with `ai` 7.
import test, { type ExecutionContext } from 'ava'
import type * as AISDK from 'ai'
import { ModelportError, PluginRegistry, type ProviderEntry } from 'modelport'
import { createModelport } from 'modelport/ai-sdk'
import { startMockOpenAI, type MockOpenAI, type MockOpenAIOptions } from 'modelport/testing'

import { reasoningProvider } from './fixtures/sdk/reasoning-provider'
import { openaiRuntimes, tempDir } from './helpers'

const ai = require(process.env['MODELPORT_AI_SDK'] ?? 'ai') as typeof AISDK
const { APICallError, embedMany, generateText, jsonSchema, Output, stepCountIs, streamText, tool } = ai
type APICallError = AISDK.APICallError

// The AI SDK logs each warning to the console; these tests read them from the results instead.
;(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false

const runtimes = openaiRuntimes

async function setup(
  t: ExecutionContext,
  entry: (url: string) => ProviderEntry,
  options: MockOpenAIOptions = {},
) {
  const mock = await startMockOpenAI(options)
  t.teardown(() => mock.close())
  const registry = await PluginRegistry.fromConfig({ providers: [entry(mock.url)], cache_dir: tempDir() })
  t.teardown(() => registry.close())
  return { mock, modelport: createModelport({ registry }) }
}

function lastBody(mock: MockOpenAI): Record<string, unknown> {
  return mock.requests.filter((r) => r.path.endsWith('/chat/completions')).at(-1)?.body as Record<
    string,
    unknown
  >
}

const weather = tool({
  description: 'Weather for a city',
  inputSchema: jsonSchema<{ city: string }>({
    type: 'object',
    properties: { city: { type: 'string' } },
    required: ['city'],
  }),
  execute: async ({ city }) => `rainy in ${city}`,
})

for (const [runtime, entry] of runtimes) {
  test(`${runtime}: generateText answers with text, usage and finish reason; settings reach the request, an unsupported one is a warning`, async (t) => {
    const { mock, modelport } = await setup(t, entry)
    const result = await generateText({
      model: modelport('openai:mock-gpt-1'),
      system: 'be brief',
      prompt: 'hello there',
      temperature: 0.25,
      maxOutputTokens: 50,
      topK: 3,
    })
    t.is(result.text, 'Echo: hello there')
    t.is(result.finishReason, 'stop')
    t.true((result.usage.inputTokens ?? 0) > 0)
    t.true((result.usage.outputTokens ?? 0) > 0)
    const body = lastBody(mock)
    t.is(body['temperature'], 0.25)
    t.is(body['max_tokens'], 50)
    t.is(body['top_k'], undefined)
    t.deepEqual(result.warnings, [
      { type: 'unsupported', feature: 'topK', details: "the plugin's config has no key for it" },
    ])
  })

  test(`${runtime}: streamText with a tool runs two steps: the tool call streams in, its result goes back`, async (t) => {
    const { mock, modelport } = await setup(t, entry)
    const result = streamText({
      model: modelport('openai'),
      prompt: 'use get_weather city=Oslo',
      tools: { get_weather: weather },
      stopWhen: stepCountIs(2),
    })
    const kinds: string[] = []
    for await (const part of result.fullStream) kinds.push(part.type)
    t.is(await result.text, 'Tool result received: rainy in Oslo')
    const steps = await result.steps
    t.is(steps.length, 2)
    t.deepEqual(
      steps[0]!.toolCalls.map((c) => [c.toolName, c.input]),
      [['get_weather', { city: 'Oslo' }]],
    )
    t.is(steps[0]!.finishReason, 'tool-calls')
    t.is(steps[1]!.finishReason, 'stop')
    for (const kind of [
      'tool-input-start',
      'tool-input-delta',
      'tool-input-end',
      'tool-call',
      'tool-result',
      'text-delta',
      'finish',
    ])
      t.true(kinds.includes(kind), kind)
    t.true(kinds.indexOf('tool-input-start') < kinds.indexOf('tool-call'))
    // The second request carried the assistant's tool call and the tool's answer.
    const messages = lastBody(mock)['messages'] as Array<{
      role: string
      content?: unknown
      tool_calls?: unknown[]
    }>
    t.deepEqual(
      messages.map((m) => m.role),
      ['user', 'assistant', 'tool'],
    )
    t.is(messages[1]!.tool_calls?.length, 1)
  })

  test(`${runtime}: embedMany splits by maxEmbeddingsPerCall and keeps the order`, async (t) => {
    const mock = await startMockOpenAI()
    t.teardown(() => mock.close())
    const registry = await PluginRegistry.fromConfig({ providers: [entry(mock.url)], cache_dir: tempDir() })
    t.teardown(() => registry.close())
    const modelport = createModelport({ registry, maxEmbeddingsPerCall: 2 })
    const values = ['a', 'b', 'c', 'd', 'e']
    const { embeddings } = await embedMany({
      model: modelport.embeddingModel('openai'),
      values,
      maxParallelCalls: 1,
    })
    const direct = await (await registry.builder('openai').build()).embed(values)
    t.deepEqual(
      embeddings,
      direct.map((v) => Array.from(v)),
    )
    t.is(mock.requests.filter((r) => r.path.endsWith('/embeddings')).length, 3 + 1)
  })

  test(`${runtime}: an aborted generateText rejects with ABORTED as the cause, and a 401 is an APICallError carrying AUTH`, async (t) => {
    const { modelport } = await setup(t, entry, { latencyMs: 60_000 })
    const controller = new AbortController()
    const pending = generateText({
      model: modelport('openai'),
      prompt: 'slow',
      abortSignal: controller.signal,
      maxRetries: 0,
    })
    setTimeout(() => controller.abort(), 50)
    const aborted = await t.throwsAsync(pending)
    const abortCause = APICallError.isInstance(aborted) ? aborted.cause : aborted
    t.true(abortCause instanceof ModelportError)
    t.is((abortCause as ModelportError).code, 'ABORTED')

    const { mock: failing, modelport: denied } = await setup(t, entry)
    failing.failNext({ status: 401 })
    const error = await t.throwsAsync(generateText({ model: denied('openai'), prompt: 'x', maxRetries: 0 }))
    t.true(APICallError.isInstance(error))
    t.is((error as APICallError).statusCode, 401)
    t.true((error as APICallError).cause instanceof ModelportError)
    t.is(((error as APICallError).cause as ModelportError).code, 'AUTH')
    t.is(failing.requests.length, 1)
  })
}

test('native: every per-call setting, image files (bytes and URL), PDFs and a JSON schema reach the request; assistant turns and tool results map back', async (t) => {
  const { mock, modelport } = await setup(t, runtimes[0]![1])
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3])
  const result = await generateText({
    model: modelport('openai:mock-gpt-1'),
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'look' },
          { type: 'image', image: png, mediaType: 'image/png' },
          { type: 'image', image: new URL('https://example.com/cat.jpg') },
          { type: 'file', data: new Uint8Array([37, 80, 68, 70]), mediaType: 'application/pdf' },
        ],
      },
      {
        role: 'assistant',
        content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'get_weather', input: { city: 'Oslo' } }],
      },
      {
        role: 'tool',
        content: [
          {
            type: 'tool-result',
            toolCallId: 'c1',
            toolName: 'get_weather',
            output: { type: 'json', value: { sky: 'grey' } },
          },
        ],
      },
      { role: 'user', content: 'and now?' },
    ],
    topP: 0.5,
    stopSequences: ['END'],
    seed: 7,
    headers: { 'x-trace': 'abc' },
    maxRetries: 0,
    providerOptions: { modelport: { parameters: { reasoning_effort: 'low' } } },
  })
  t.is(result.text, 'Echo: and now?')
  t.deepEqual(result.warnings, [])
  const request = mock.requests.filter((r) => r.path.endsWith('/chat/completions')).at(-1)!
  t.is(request.headers['x-trace'], 'abc')
  const body = request.body as Record<string, unknown>
  t.is(body['top_p'], 0.5)
  t.deepEqual(body['stop'], ['END'])
  t.is(body['seed'], 7)
  t.is(body['reasoning_effort'], 'low')
  const [user, assistant, toolMessage] = body['messages'] as Array<Record<string, unknown>>
  t.deepEqual(user!['content'], [
    { type: 'text', text: 'look' },
    { type: 'image_url', image_url: { url: `data:image/png;base64,${Buffer.from(png).toString('base64')}` } },
    { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
    {
      type: 'file',
      file: { file_data: `data:application/pdf;base64,${Buffer.from('%PDF').toString('base64')}` },
    },
  ])
  t.deepEqual(
    (assistant!['tool_calls'] as Array<{ id: string; function: { name: string; arguments: string } }>).map(
      (c) => [c.id, c.function.name, JSON.parse(c.function.arguments)],
    ),
    [['c1', 'get_weather', { city: 'Oslo' }]],
  )
  t.is(toolMessage!['tool_call_id'], 'c1')
  t.is(toolMessage!['content'], '{"sky":"grey"}')

  const json = await setup(t, runtimes[0]![1], { reply: () => '{"a":1}' })
  const structured = await generateText({
    model: json.modelport('openai'),
    prompt: 'give json',
    maxRetries: 0,
    output: Output.object({
      schema: jsonSchema<{ a: number }>({ type: 'object', properties: { a: { type: 'number' } } }),
      name: 'thing',
    }),
  })
  t.deepEqual(structured.output, { a: 1 })
  const format = lastBody(json.mock)['response_format'] as {
    type: string
    json_schema?: { name?: string; schema?: unknown }
  }
  t.is(format.type, 'json_schema')
  t.is(format.json_schema?.name, 'thing')
  t.deepEqual(format.json_schema?.schema, { type: 'object', properties: { a: { type: 'number' } } })
})

test('an unknown provider or a malformed model id fails as an AI SDK error carrying the ModelportError', async (t) => {
  const { modelport } = await setup(t, runtimes[0]![1])
  const unknown = await t.throwsAsync(
    generateText({ model: modelport('nope:model'), prompt: 'x', maxRetries: 0 }),
  )
  t.true(APICallError.isInstance(unknown))
  t.is(((unknown as APICallError).cause as ModelportError).code, 'PLUGIN_NOT_FOUND')
  const malformed = t.throws(() => modelport(':model'))
  t.is((malformed as ModelportError).code, 'INVALID_REQUEST')
})

test('a TypeScript provider that streams reasoning: reasoning-start/delta/end come before the text, with reasoning tokens; a setting it cannot take is a warning', async (t) => {
  const registry = await PluginRegistry.fromConfig({ providers: [], cache_dir: tempDir() })
  t.teardown(() => registry.close())
  const thinker = reasoningProvider()
  await registry.register(thinker.pluginExport)
  const modelport = createModelport({ registry })
  // A TypeScript provider takes temperature but not topP: topP becomes a warning.
  const result = streamText({ model: modelport('thinker'), prompt: 'why?', temperature: 0.5, topP: 0.9 })
  const kinds: string[] = []
  for await (const part of result.fullStream)
    if (/^(reasoning|text)-(start|delta|end)$/.test(part.type) && kinds.at(-1) !== part.type)
      kinds.push(part.type)
  t.deepEqual(kinds, [
    'reasoning-start',
    'reasoning-delta',
    'reasoning-end',
    'text-start',
    'text-delta',
    'text-end',
  ])
  t.is(await result.reasoningText, 'Let me think. Done thinking.')
  t.is(await result.text, 'Answer: why?')
  const usage = await result.usage
  t.is(usage.outputTokens, 4)
  t.is(usage.outputTokenDetails.reasoningTokens, 2)
  t.deepEqual(await result.warnings, [
    { type: 'unsupported', feature: 'topP', details: "the plugin's config has no key for it" },
  ])
  t.is(thinker.requests.at(-1)?.temperature, 0.5)
})
