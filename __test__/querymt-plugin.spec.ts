// QueryMT's own OpenAI provider (crates/providers/openai of querymt/querymt, built unmodified with
// QueryMT's Extism macros: wasm/thirdparty/querymt) run side by side with modelport's native
// openai plugin against the embedded server: every scenario must give the same result from both.
// Two builds: QueryMT today (v2: the host does the HTTP) and QueryMT before its v2 macro (v1: the
// plugin does its HTTP through the host functions). Nobody here wrote that code, so these tests
// check modelport against QueryMT's wire format as QueryMT implements it, not as we read it.
import { join } from 'node:path'

import test, { type ExecutionContext } from 'ava'
import {
  type ChatResponse,
  type ChatStreamEvent,
  type Part,
  PluginRegistry,
  type Provider,
  type ToolDefinition,
} from 'modelport'
import { startMockOpenAI, type MockOpenAI, type MockOpenAIOptions } from 'modelport/testing'

import { failure, openaiEntry, root, tempDir, wasmProvider } from './helpers'

/** The two builds of QueryMT's openai plugin (see wasm/thirdparty/querymt/README.md). */
const BUILDS = [
  { generation: 'v2', file: 'qmt_openai.wasm', wasi: false },
  // QueryMT built its v1 plugins for wasm32-wasip1.
  { generation: 'v1', file: 'qmt_openai_v1.wasm', wasi: true },
] as const
type Build = (typeof BUILDS)[number]

/** One module cache for the file: each 1.7 MB module is compiled once, not once per test. */
const CACHE_DIR = tempDir()

/**
 * `response` with usage counts of 0 that may be absent removed: QueryMT's `Usage` has no "not
 * reported" for reasoning and cache tokens (they are plain numbers, 0 by default), so its plugin
 * sends 0 where the native plugin, which can say "not reported", leaves them out.
 */
function comparable<T extends { usage: ChatResponse['usage'] }>(response: T): T {
  if (!response.usage) return response
  const usage = { ...response.usage }
  for (const key of ['reasoningTokens', 'cacheRead', 'cacheWrite'] as const) {
    if (usage[key] === 0) delete usage[key]
  }
  return { ...response, usage }
}

interface Pair {
  server: MockOpenAI
  registry: PluginRegistry
  /** QueryMT's plugin. */
  querymt: Provider
  /** modelport's native openai plugin. */
  native: Provider
}

/** Both providers on one embedded server, with the same config. */
async function pair(
  t: ExecutionContext,
  build: Build,
  options: MockOpenAIOptions = {},
  config: Record<string, unknown> = {},
): Promise<Pair> {
  const server = await startMockOpenAI(options)
  t.teardown(() => server.close())
  const base = { api_key: 'sk-test', ...config }
  const registry = await PluginRegistry.fromConfig({
    cache_dir: CACHE_DIR,
    providers: [
      {
        name: 'querymt',
        path: join(root, 'wasm', 'thirdparty', 'querymt', build.file),
        wasi: build.wasi,
        config: { base_url: server.url, model: 'mock-gpt-1', ...base },
      },
      openaiEntry(server.url, base),
    ],
  })
  t.teardown(() => registry.close())
  return {
    server,
    registry,
    querymt: await registry.builder('querymt').build(),
    native: await registry.builder('openai').build(),
  }
}

/** Runs `work` on both providers; returns [QueryMT's result, native's result]. */
async function both<T>(p: Pair, work: (provider: Provider) => Promise<T>): Promise<[T, T]> {
  return [await work(p.querymt), await work(p.native)]
}

const weather: ToolDefinition = {
  name: 'get_weather',
  description: 'Weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
}
const time: ToolDefinition = {
  name: 'get_time',
  description: 'Time in a zone',
  parameters: { type: 'object', properties: { zone: { type: 'string' } }, required: ['zone'] },
}

async function events(stream: AsyncIterable<ChatStreamEvent>): Promise<ChatStreamEvent[]> {
  const out: ChatStreamEvent[] = []
  for await (const event of stream) out.push(event)
  return out
}

for (const build of BUILDS) {
  test(`${build.generation}: QueryMT plugin loads as a ${build.generation} provider: name, key variable, schema`, async (t) => {
    const p = await pair(t, build)
    const info = p.registry.list().find((plugin) => plugin.name === 'querymt')
    // v2: the host performs the HTTP; v1: the plugin does, through the host functions.
    t.like(info, {
      kind: 'wasm',
      provider: 'openai',
      hostHttp: build.generation === 'v2',
      apiKeyName: 'OPENAI_API_KEY',
    })
    const schema = p.registry.configSchema('querymt') as { properties?: Record<string, unknown> }
    t.truthy(schema.properties?.['model'], 'the schema schemars made is served as is')
    t.truthy(schema.properties?.['base_url'])
  })

  test(`${build.generation}: chat: the same answer, usage and finish reason from both; the system prompt reaches the server`, async (t) => {
    const p = await pair(t, build, {}, { system: ['Be brief.'] })
    const [querymt, native] = await both(p, (provider) =>
      provider.chat([
        { role: 'system', content: 'Answer in English.' },
        { role: 'user', content: 'hello from both' },
      ]),
    )
    t.is(querymt.text, 'Echo: hello from both')
    t.deepEqual(comparable(querymt), native)
    const sent = p.server.requests.filter((r) => r.path === '/v1/chat/completions')
    t.is(sent.length, 2)
    for (const request of sent) {
      const messages = (request.body as { messages: Array<{ role: string; content: unknown }> }).messages
      const system = messages.filter((m) => m.role === 'system').map((m) => JSON.stringify(m.content))
      t.true(
        system.some((text) => text.includes('Be brief.')),
        JSON.stringify(messages),
      )
      t.true(
        system.some((text) => text.includes('Answer in English.')),
        JSON.stringify(messages),
      )
      t.is(request.headers['authorization'], 'Bearer sk-test')
    }
  })

  test(`${build.generation}: parallel tool calls and the tool-result turn that follows: equal from both`, async (t) => {
    const p = await pair(t, build)
    const ask = [{ role: 'user' as const, content: 'get_weather city=Oslo and get_time zone=UTC' }]
    const [querymt, native] = await both(p, (provider) => provider.chat(ask, { tools: [weather, time] }))
    t.deepEqual(
      querymt.toolCalls.map((c) => [c.name, JSON.parse(c.arguments)]),
      [
        ['get_weather', { city: 'Oslo' }],
        ['get_time', { zone: 'UTC' }],
      ],
    )
    t.is(querymt.finishReason, 'toolCalls')
    t.deepEqual(comparable(querymt), native)
    const [first] = querymt.toolCalls
    const followUp = await both(p, (provider) =>
      provider.chat(
        [
          ...ask,
          { role: 'assistant', content: null, toolCalls: [first!] },
          { role: 'tool', toolCallId: first!.id, name: first!.name, content: 'sunny, 21 C' },
        ],
        { tools: [weather, time] },
      ),
    )
    t.is(followUp[0].text, 'Tool result received: sunny, 21 C')
    t.deepEqual(comparable(followUp[0]), followUp[1])
  })

  test(`${build.generation}: image parts: inline bytes cross as QueryMT's byte arrays; image URLs reach the server from both`, async (t) => {
    const p = await pair(t, build)
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 255]).toString('base64')
    const ask = (part: Part) => [
      { role: 'user' as const, content: [{ type: 'text' as const, text: 'what is this?' }, part] },
    ]
    const bodies = () =>
      p.server.requests
        .filter((r) => r.path === '/v1/chat/completions')
        .map((r) => JSON.stringify((r.body as { messages: unknown[] }).messages))
    // QueryMT's plugin reads `data` as bytes (a base64 string would fail its deserialization)
    // and, as QueryMT's OpenAI provider does, sends only image URLs: the native plugin inlines.
    await both(p, (provider) => provider.chat(ask({ type: 'image', mimeType: 'image/png', data: png })))
    const [fromQuerymt, fromNative] = bodies()
    t.false(fromQuerymt!.includes(png), fromQuerymt)
    t.true(fromNative!.includes(`data:image/png;base64,${png}`), fromNative)
    const url = 'https://example.com/cat.png'
    await both(p, (provider) => provider.chat(ask({ type: 'imageUrl', url })))
    for (const body of bodies().slice(2)) t.true(body.includes(url), body)
    const err = await failure(
      t,
      p.querymt.chat(ask({ type: 'image', mimeType: 'image/png', data: '*not base64*' })),
    )
    t.is(err?.code, 'INVALID_REQUEST')
    t.regex(err?.message ?? '', /content\[1\]\.data is not base64/)
    t.is(bodies().length, 4, 'nothing was sent')
  })

  test(`${build.generation}: stream: text, then tool-call deltas, with usage (v2); one done, last; same answer as native`, async (t) => {
    // QueryMT's plugin asks for no stream usage itself; its `extra_body` config adds the option.
    // QueryMT's v1 `chat_stream` stops reading at the first `done` (the finish reason), before
    // the usage chunk OpenAI sends after it: with v1 there is no usage, as in QueryMT.
    const withUsage = build.generation === 'v2'
    const p = await pair(t, build, {}, {})
    const usageConfig = { extra_body: { stream_options: { include_usage: true } } }
    const querymt = await p.registry.builder('querymt').parameters(usageConfig).build()
    for (const [text, tools] of [
      ['stream me some words', undefined],
      ['get_weather city=Oslo and get_time zone=UTC', [weather, time]],
    ] as const) {
      const messages = [{ role: 'user' as const, content: text }]
      const fromQuerymt = await events(querymt.chatStream(messages, { tools: tools && [...tools] }))
      const fromNative = await events(p.native.chatStream(messages, { tools: tools && [...tools] }))
      for (const list of [fromQuerymt, fromNative]) {
        t.is(list.filter((e) => e.type === 'done').length, 1, JSON.stringify(list))
        t.is(list.at(-1)?.type, 'done')
      }
      t.is(
        fromQuerymt.some((e) => e.type === 'usage'),
        withUsage,
        JSON.stringify(fromQuerymt),
      )
      t.true(
        fromNative.some((e) => e.type === 'usage'),
        JSON.stringify(fromNative),
      )
      if (tools) {
        t.true(fromQuerymt.some((e) => e.type === 'toolUseStart'))
        t.true(fromQuerymt.some((e) => e.type === 'toolUseInputDelta'))
      } else {
        t.true(fromQuerymt.filter((e) => e.type === 'text').length > 1, 'text arrives in pieces')
      }
      const [collectedQuerymt, collectedNative] = [
        await querymt.chatStream(messages, { tools: tools && [...tools] }).collect(),
        await p.native.chatStream(messages, { tools: tools && [...tools] }).collect(),
      ]
      t.deepEqual(
        comparable(collectedQuerymt),
        withUsage ? collectedNative : { ...collectedNative, usage: null },
      )
      t.deepEqual(collectedNative, await p.native.chat(messages, { tools: tools && [...tools] }))
    }
  })

  test(`${build.generation}: embed and listModels: equal from both`, async (t) => {
    const p = await pair(t, build, { embeddingDimensions: 16 })
    const [querymt, native] = await both(p, (provider) => provider.embed(['first text', 'second text']))
    t.is(querymt.length, 2)
    t.is(querymt[0]?.length, 16)
    t.deepEqual(
      querymt.map((v) => Array.from(v)),
      native.map((v) => Array.from(v)),
    )
    const models = await both(p, (provider) => provider.listModels())
    t.deepEqual(models[0], ['mock-gpt-1', 'mock-embed-1'])
    t.deepEqual(models[0], models[1])
  })

  test(`${build.generation}: complete: QueryMT plugin has no completions (its complete_request is unimplemented!): PLUGIN_TRAPPED, then it serves on`, async (t) => {
    const p = await pair(t, build)
    t.is((await p.native.complete({ prompt: 'Once upon' })).text, ' continues: Once upon')
    const trapped = await failure(t, p.querymt.complete({ prompt: 'Once upon' }))
    t.is(trapped?.code, 'PLUGIN_TRAPPED')
    t.is(trapped?.plugin, 'querymt')
    t.is((await p.querymt.chat([{ role: 'user', content: 'still here' }])).text, 'Echo: still here')
  })

  test(`${build.generation}: 401: AUTH from both, not retried, the server message and provider code kept`, async (t) => {
    const p = await pair(t, build, { apiKey: 'the-right-key' })
    const [querymt, native] = await both(p, (provider) =>
      failure(t, provider.chat([{ role: 'user', content: 'x' }])),
    )
    for (const err of [querymt, native]) {
      t.is(err?.code, 'AUTH')
      t.is(err?.retryable, false)
      t.regex(err?.message ?? '', /Incorrect API key/)
    }
    // QueryMT's v1 classified by status alone; v2 reads OpenAI's error code.
    if (build.generation === 'v2') {
      t.true(querymt?.causes.includes('provider code: invalid_api_key'), JSON.stringify(querymt?.causes))
    }
    t.true(native?.causes.includes('provider code: invalid_api_key'), JSON.stringify(native?.causes))
    t.is(p.server.requests.length, 2, 'one request each: an auth failure is final')
  })

  test(`${build.generation}: 429: RATE_LIMITED from both, retried after the wait the server asked for (retry_after_secs)`, async (t) => {
    const p = await pair(t, build)
    const limited = { status: 429, headers: { 'retry-after': '1' } }
    for (const provider of [p.querymt, p.native]) {
      p.server.failNext(limited)
      const started = Date.now()
      const answer = await provider.chat([{ role: 'user', content: 'after the wait' }], { maxRetries: 1 })
      t.is(answer.text, 'Echo: after the wait')
      t.true(Date.now() - started >= 1000, 'the retry waited the asked-for second')
      p.server.failNext(limited)
      const err = await failure(t, provider.chat([{ role: 'user', content: 'x' }], { maxRetries: 0 }))
      t.is(err?.code, 'RATE_LIMITED')
      t.is(err?.retryAfterMs, 1000)
      t.is(err?.retryable, true)
    }
  })

  test(`${build.generation}: 429 insufficient_quota: QUOTA_EXCEEDED, never retried (v1: QueryMT then called every 429 a rate limit)`, async (t) => {
    const p = await pair(t, build)
    const quota = JSON.stringify({
      error: {
        message: 'You exceeded your current quota',
        type: 'insufficient_quota',
        code: 'insufficient_quota',
      },
    })
    for (const provider of [p.querymt, p.native]) {
      const before = p.server.requests.length
      p.server.failNext({ status: 429, body: quota })
      const chat = provider.chat([{ role: 'user', content: 'x' }], { maxRetries: 3 })
      if (provider === p.querymt && build.generation === 'v1') {
        // The plugin's classification decides: QueryMT's v1 said "rate limited", so it is retried.
        t.is((await chat).text, 'Echo: x')
        t.is(p.server.requests.length - before, 2)
        continue
      }
      const err = await failure(t, chat)
      t.is(err?.code, 'QUOTA_EXCEEDED')
      t.is(err?.retryable, false)
      t.is(p.server.requests.length - before, 1)
    }
  })

  test(`${build.generation}: 500: retried as transient by both; HTTP_STATUS 500 when retries run out`, async (t) => {
    const p = await pair(t, build)
    for (const provider of [p.querymt, p.native]) {
      p.server.failNext({ status: 500 })
      t.is((await provider.chat([{ role: 'user', content: 'again' }], { maxRetries: 1 })).text, 'Echo: again')
      p.server.failNext({ status: 500 }, { status: 500 })
      const err = await failure(t, provider.chat([{ role: 'user', content: 'x' }], { maxRetries: 1 }))
      t.is(err?.code, 'HTTP_STATUS')
      t.is(err?.status, 500)
      t.is(err?.retryable, true)
    }
  })

  test(`${build.generation}: malformed upstream JSON is PARSE_ERROR, whole and streamed (v1 streamed: QueryMT's plain PLUGIN_ERROR)`, async (t) => {
    const p = await pair(t, build, { rawStream: () => ({ pieces: ['data: {"choices": [ not json\n\n'] }) })
    for (const provider of [p.querymt, p.native]) {
      p.server.failNext({ status: 200, body: '{"choices": [ not json' })
      t.is((await failure(t, provider.chat([{ role: 'user', content: 'x' }])))?.code, 'PARSE_ERROR')
      const streamed = await failure(t, events(provider.chatStream([{ role: 'user', content: 'x' }])))
      if (provider === p.querymt && build.generation === 'v1') {
        // QueryMT's v1 `chat_stream` fails with a message, not a typed payload.
        t.is(streamed?.code, 'PLUGIN_ERROR')
        t.regex(streamed?.message ?? '', /parse_chat_stream_chunk failed: Response Format Error/)
      } else {
        t.is(streamed?.code, 'PARSE_ERROR', streamed?.message)
      }
    }
  })

  test(`${build.generation}: speech and transcription: QueryMT plugin (transcribe/speech exports) and native give the same`, async (t) => {
    const p = await pair(t, build)
    const [querymtSpeech, nativeSpeech] = await both(p, (provider) =>
      provider.speech('a sentence to say', { voice: 'nova', format: 'wav' }),
    )
    t.is(querymtSpeech.mimeType, 'audio/wav')
    t.deepEqual(querymtSpeech, nativeSpeech)
    t.is(new TextDecoder().decode(querymtSpeech.audio), 'a sentence to say', "the mock's audio is the text")
    const [querymtText, nativeText] = await both(p, (provider) =>
      provider.transcribe(querymtSpeech.audio, { mimeType: 'audio/wav', language: 'en' }),
    )
    t.is(querymtText.text, 'a sentence to say')
    t.deepEqual(querymtText, nativeText)
    const uploads = p.server.requests.filter((r) => r.path === '/v1/audio/transcriptions')
    t.is(uploads.length, 2)
    for (const upload of uploads) {
      t.like(upload.body, { response_format: 'json', language: 'en', file: { type: 'audio/wav' } })
    }
    p.server.failNext({ status: 401 })
    t.is((await failure(t, p.querymt.speech('x')))?.code, 'AUTH')
  })
}

test('a plugin without speech or transcription answers UNSUPPORTED', async (t) => {
  const server = await startMockOpenAI()
  t.teardown(() => server.close())
  const registry = await PluginRegistry.fromConfig({
    cache_dir: tempDir(),
    providers: [
      { name: 'as', path: wasmProvider('openai_v2'), config: { base_url: server.url, model: 'mock-gpt-1' } },
    ],
  })
  t.teardown(() => registry.close())
  const provider = await registry.builder('as').build()
  t.is((await failure(t, provider.speech('x')))?.code, 'UNSUPPORTED')
  t.is(
    (await failure(t, provider.transcribe(new Uint8Array([1]), { mimeType: 'audio/wav' })))?.code,
    'UNSUPPORTED',
  )
  t.is(server.requests.length, 0)
})
