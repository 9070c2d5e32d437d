// Streaming, tool calls, cancellation and retries: every behaviour checked against the native
// openai plugin and the Wasm openai plugins (QueryMT v2: guest stream parser on a pinned instance;
// v1: the plugin reads the HTTP stream itself and yields chunks through the host).
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

import test, { type ExecutionContext } from 'ava'
import {
  type ChatStreamEvent,
  type Message,
  PluginRegistry,
  type Provider,
  type ProviderEntry,
  type ToolDefinition,
} from 'modelport'
import { type MockOpenAI, type MockOpenAIOptions, startMockOpenAI } from 'modelport/testing'

import {
  eventually,
  failure,
  plugin,
  PLUGIN_TIMEOUT_MS,
  REQUEST_TIMEOUT_MS,
  root,
  SLACK_MS,
  SLOW_PATH_MS,
  tempDir,
  timed,
  wasmProvider,
} from './helpers'

type Kind = 'native' | 'wasm v2' | 'wasm v1'
const KINDS: Kind[] = ['native', 'wasm v2', 'wasm v1']
const cacheDir = tempDir()

function entry(kind: Kind, url: string, host: Partial<ProviderEntry> = {}): ProviderEntry {
  const path =
    kind === 'native' ? plugin('openai') : wasmProvider(kind === 'wasm v2' ? 'openai_v2' : 'openai_v1')
  return {
    name: 'p',
    path,
    config: { base_url: url, model: 'mock-gpt-1' },
    ...(kind === 'native' ? {} : { timeout_ms: PLUGIN_TIMEOUT_MS }),
    ...host,
  }
}

async function setup(
  t: ExecutionContext,
  kind: Kind,
  options: MockOpenAIOptions = {},
  host: Partial<ProviderEntry> = {},
): Promise<{ server: MockOpenAI; provider: Provider; registry: PluginRegistry }> {
  const server = await startMockOpenAI(options)
  t.teardown(() => server.close())
  const registry = await PluginRegistry.fromConfig({
    providers: [entry(kind, server.url, host)],
    cache_dir: cacheDir,
  })
  t.teardown(() => registry.close())
  return { server, registry, provider: await registry.builder('p').build() }
}

async function collectEvents(stream: AsyncIterable<ChatStreamEvent>): Promise<ChatStreamEvent[]> {
  const events: ChatStreamEvent[] = []
  for await (const event of stream) events.push(event)
  return events
}

/** Aborts `controller` and asserts that `pending` rejects with ABORTED long before the upstream
 * would have answered (how soon is measured by `npm run bench`) and that the server is left with
 * no open connection. */
async function abortsPromptly(
  t: ExecutionContext,
  server: MockOpenAI,
  controller: AbortController,
  pending: Promise<unknown>,
): Promise<void> {
  const [error, ms] = await timed(() => {
    controller.abort()
    return failure(t, pending)
  })
  t.is(error?.code, 'ABORTED')
  t.true(ms < SLACK_MS, `took ${ms} ms`)
  t.true(await eventually(() => server.openConnections() === 0), 'the server still has an open connection')
}

const tools: ToolDefinition[] = [
  {
    name: 'get_weather',
    description: 'Weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
  {
    name: 'get_time',
    description: 'Time in a zone',
    parameters: { type: 'object', properties: { zone: { type: 'string' }, hours: { type: 'integer' } } },
  },
]

const user = (content: string): Message[] => [{ role: 'user', content }]

for (const kind of KINDS) {
  test(`${kind}: streamed text equals the non-streamed text, with usage and finish reason`, async (t) => {
    const { provider } = await setup(t, kind)
    const prompt = user('the quick brown fox jumps over the lazy dog')
    const whole = await provider.chat(prompt)
    const events = await collectEvents(provider.chatStream(prompt))
    const text = events.flatMap((e) => (e.type === 'text' ? [e.text] : [])).join('')
    t.is(text, whole.text ?? '')
    t.true(events.filter((e) => e.type === 'text').length > 5, 'the answer arrives in pieces')
    t.deepEqual(events.at(-1), { type: 'done', finishReason: 'stop' })
    const usage = events.find((e) => e.type === 'usage')
    t.deepEqual(usage, { type: 'usage', usage: whole.usage! })
    t.deepEqual(await provider.chatStream(prompt).collect(), whole)
  })

  test(`${kind}: two parallel streamed tool calls reassemble to the non-streamed calls`, async (t) => {
    const { provider } = await setup(t, kind)
    const prompt = user('use get_weather and get_time with city=Oslo zone=CET hours=2')
    const whole = await provider.chat(prompt, { tools })
    t.is(whole.toolCalls.length, 2)
    const events = await collectEvents(provider.chatStream(prompt, { tools }))
    const starts = events.filter((e) => e.type === 'toolUseStart')
    t.deepEqual(
      starts.map((e) => [e.index, e.name]),
      [
        [0, 'get_weather'],
        [1, 'get_time'],
      ],
    )
    // The deltas of both calls interleave; per index they add up to the whole arguments.
    for (const [index, call] of whole.toolCalls.entries()) {
      const deltas = events.flatMap((e) =>
        e.type === 'toolUseInputDelta' && e.index === index ? [e.partialJson] : [],
      )
      t.true(deltas.length >= 2)
      t.is(deltas.join(''), call.arguments)
    }
    const complete = events.flatMap((e) => (e.type === 'toolUseComplete' ? [e.toolCall] : []))
    t.deepEqual(complete, whole.toolCalls)
    t.deepEqual(JSON.parse(complete[0]!.arguments), { city: 'Oslo' })
    t.deepEqual(JSON.parse(complete[1]!.arguments), { zone: 'CET', hours: 2 })
    t.deepEqual(events.at(-1), { type: 'done', finishReason: 'toolCalls' })
  })

  test(`${kind}: a multi-turn tool loop completes over streams`, async (t) => {
    const { server, provider } = await setup(t, kind)
    const messages: Message[] = user('get_weather city=Paris')
    for (let turn = 0; turn < 4; turn++) {
      const answer = await provider.chatStream(messages, { tools }).collect()
      if (answer.finishReason !== 'toolCalls') {
        t.is(answer.text, 'Tool result received: 21°C and sunny in Paris')
        t.is(turn, 1)
        const sent = server.requests.at(-1)!.body as {
          messages: Array<{ role: string; tool_call_id?: string }>
        }
        t.deepEqual(
          sent.messages.map((m) => m.role),
          ['user', 'assistant', 'tool'],
        )
        return
      }
      messages.push({ role: 'assistant', toolCalls: answer.toolCalls })
      for (const call of answer.toolCalls) {
        const { city } = JSON.parse(call.arguments) as { city: string }
        messages.push({
          role: 'tool',
          toolCallId: call.id,
          name: call.name,
          content: `21°C and sunny in ${city}`,
        })
      }
    }
    t.fail('the tool loop did not finish')
  })

  test(`${kind}: toolChoice per call, streamed and not`, async (t) => {
    const { server, provider } = await setup(t, kind)
    const prompt = user('what is the weather? get_weather city=Rome')
    const forced = await provider.chat(prompt, { tools, toolChoice: { name: 'get_time' } })
    t.deepEqual(
      forced.toolCalls.map((c) => c.name),
      ['get_time'],
    )
    t.deepEqual((server.requests.at(-1)!.body as { tool_choice: unknown }).tool_choice, {
      type: 'function',
      function: { name: 'get_time' },
    })
    const none = await provider.chatStream(prompt, { tools, toolChoice: 'none' }).collect()
    t.deepEqual(none.toolCalls, [])
    t.is(none.finishReason, 'stop')
    // The provider itself is unchanged by a call's options.
    t.deepEqual(
      (await provider.chat(prompt, { tools })).toolCalls.map((c) => c.name),
      ['get_weather'],
    )
    const bad = await failure(t, provider.chat(prompt, { tools, toolChoice: 'sometimes' as never }))
    t.is(bad?.code, 'INVALID_REQUEST')
  })

  // Timed tests run serially: concurrent 100,000-chunk streams share this event loop.
  test.serial(`${kind}: abort mid-stream rejects with ABORTED and closes the connection`, async (t) => {
    const words = Array.from({ length: 200 }, (_, i) => `w${i}`).join(' ')
    const { server, provider } = await setup(t, kind, { chunkDelayMs: 100, reply: () => words })
    const controller = new AbortController()
    const stream = provider.chatStream(user('go'), { signal: controller.signal })
    const iterator = stream[Symbol.asyncIterator]()
    let first = await iterator.next()
    while (!first.done && first.value.type !== 'text') first = await iterator.next()
    t.false(first.done)
    t.is(server.openConnections(), 1)
    const pending = iterator.next()
    await abortsPromptly(t, server, controller, pending)
  })

  test.serial(`${kind}: abort mid-request rejects with ABORTED and closes the connection`, async (t) => {
    const { server, provider } = await setup(t, kind, { latencyMs: SLOW_PATH_MS })
    const controller = new AbortController()
    const pending = provider.chat(user('slow'), { signal: controller.signal })
    t.true(await eventually(() => server.openConnections() === 1 && server.requests.length === 1))
    await abortsPromptly(t, server, controller, pending)
  })

  test(`${kind}: 429 with retry-after-ms is retried after the wait, then succeeds`, async (t) => {
    const { server, provider } = await setup(t, kind)
    server.failNext({ status: 429, headers: { 'retry-after-ms': '120' } })
    const started = Date.now()
    const answer = await provider.chat(user('again'))
    t.is(answer.text, 'Echo: again')
    t.true(Date.now() - started >= 120)
    t.is(server.requests.length, 2)
    server.failNext(
      { status: 503, headers: { 'retry-after-ms': '10' } },
      { status: 429, headers: { 'retry-after-ms': '10' } },
    )
    t.is((await provider.chatStream(user('streamed')).collect()).text, 'Echo: streamed')
    t.is(server.requests.length, 5)
  })

  test(`${kind}: 400 is not retried`, async (t) => {
    const { server, provider } = await setup(t, kind)
    server.failNext({
      status: 400,
      body: '{"error":{"message":"bad request","type":"invalid_request_error"}}',
    })
    const error = await failure(t, provider.chat(user('x')))
    t.is(error?.status, 400)
    t.is(server.requests.length, 1)
    server.failNext({ status: 400 })
    const streamed = await failure(t, provider.chatStream(user('x')).collect())
    t.is(streamed?.status, 400)
    t.is(server.requests.length, 2)
    t.is((await provider.chat(user('next'))).text, 'Echo: next', 'the next call is unaffected')
  })

  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
  const wellFormedPieces = [chunk({ content: 'Hel' }), chunk({ content: 'lo' }, 'stop'), 'data: [DONE]\n\n']
  const malformed: Record<string, { pieces: string[]; reset?: boolean }> = {
    'missing [DONE]': { pieces: wellFormedPieces.slice(0, 2) },
    'a truncated final chunk': {
      pieces: [chunk({ content: 'Hel' }), 'data: {"choices":[{"index":0,"delta":{"cont'],
    },
    'invalid JSON mid-stream': {
      pieces: [chunk({ content: 'Hel' }), 'data: {"choices": nope}\n\n', ...wellFormedPieces.slice(1)],
    },
    'tool-call arguments cut off': {
      pieces: [
        chunk({
          tool_calls: [
            { index: 0, id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '' } },
          ],
        }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
      ],
    },
    'an error event': { pieces: [chunk({ content: 'Hel' }), 'data: {"error":{"message":"overloaded"}}\n\n'] },
  }
  for (const [name, script] of Object.entries(malformed)) {
    test(`${kind}: malformed stream (${name}) ends in an error, never a clean finish`, async (t) => {
      const { provider } = await setup(t, kind, { rawStream: () => script })
      const seen: ChatStreamEvent[] = []
      const error = await failure(t, async () => {
        for await (const event of provider.chatStream(user('x'), { tools })) seen.push(event)
      })
      t.is(error?.code, name === 'an error event' ? 'PROVIDER_ERROR' : 'PARSE_ERROR', error?.message)
      t.false(
        seen.some((e) => e.type === 'done' || e.type === 'toolUseComplete'),
        JSON.stringify(seen),
      )
    })
  }

  test(`${kind}: JSON split across network chunks, CRLF line ends and comments parse normally`, async (t) => {
    const body = `: a comment\r\n\r\n${chunk({ content: 'Hel' }).replace(/\n/g, '\r\n')}${chunk({ content: 'lo' }, 'stop')}data: [DONE]\n\n`
    const pieces = body.match(/[\s\S]{1,7}/g)!
    const { provider } = await setup(t, kind, { rawStream: () => ({ pieces }), chunkDelayMs: 1 })
    const answer = await provider.chatStream(user('x')).collect()
    t.is(answer.text, 'Hello')
    t.is(answer.finishReason, 'stop')
  })

  test(`${kind}: a connection reset mid-stream is an error`, async (t) => {
    const { provider } = await setup(t, kind, {
      rawStream: () => ({ pieces: [chunk({ content: 'Hel' })], reset: true }),
    })
    const seen: ChatStreamEvent[] = []
    const error = await failure(t, async () => {
      for await (const event of provider.chatStream(user('x'), { maxRetries: 0 })) seen.push(event)
    })
    // The host reads native and v2 streams itself; a v1 plugin reads its own and reports as it likes.
    if (kind !== 'wasm v1') t.is(error?.code, 'TRANSPORT', error?.message)
    t.false(seen.some((e) => e.type === 'done'))
  })

  test(`${kind}: leaving the loop early closes the HTTP stream and frees the instance`, async (t) => {
    const words = Array.from({ length: 100 }, (_, i) => `w${i}`).join(' ')
    const { server, provider } = await setup(
      t,
      kind,
      { chunkDelayMs: 20, reply: () => words },
      kind === 'native' ? {} : { max_instances: 1 },
    )
    for (const round of [1, 2, 3]) {
      for await (const event of provider.chatStream(user(`round ${round}`))) {
        if (event.type === 'text') break
      }
      t.true(await eventually(() => server.openConnections() === 0), `round ${round}: connection left open`)
    }
  })
}

for (const kind of KINDS) {
  test(`${kind}: a stream of 100,000 chunks is consumed completely`, async (t) => {
    const words = Array.from({ length: 100_000 }, (_, i) => `w${i}`)
    // A v1 plugin's timeout_ms covers its whole chat_stream, whose length here depends on how
    // busy the machine is (over 30 s under `npm run test:stress`): no call timeout. The HTTP
    // exchange's own bound stretches like the other bounds (over 600 s under emulation).
    const { provider } = await setup(
      t,
      kind,
      { reply: () => words.join(' ') },
      {
        request_timeout_ms: REQUEST_TIMEOUT_MS,
        ...(kind === 'wasm v1' ? { timeout_ms: 0 } : {}),
      },
    )
    let count = 0
    let last = ''
    for await (const event of provider.chatStream(user('many'))) {
      if (event.type === 'text') {
        count++
        last = event.text
      }
    }
    t.is(count, 100_000)
    t.is(last, ' w99999')
  })
}

test.serial('abort during a retry backoff stops at once', async (t) => {
  const { server, provider } = await setup(t, 'native')
  server.failNext({ status: 503, headers: { 'retry-after-ms': String(SLOW_PATH_MS) } })
  const controller = new AbortController()
  const pending = provider.chat(user('x'), { signal: controller.signal })
  t.true(await eventually(() => server.requests.length === 1))
  await new Promise((r) => setTimeout(r, 50))
  const [error, ms] = await timed(() => {
    controller.abort()
    return failure(t, pending)
  })
  t.is(error?.code, 'ABORTED')
  t.true(ms < SLACK_MS, `took ${ms} ms (the retry was a minute away)`)
  t.is(server.requests.length, 1)
})

test('retry limits: per call (maxRetries) and per provider (max_retries)', async (t) => {
  const { server, provider } = await setup(t, 'native', {}, { max_retries: 1, retry_base_delay_ms: 5 })
  server.failNext({ status: 500 }, { status: 500 })
  const failed = await failure(t, provider.chat(user('x')))
  t.is(failed?.status, 500, failed?.message)
  t.is(server.requests.length, 2, 'one retry: the provider limit')
  server.failNext({ status: 429, headers: { 'retry-after-ms': '1' } })
  const limited = await failure(t, provider.chat(user('x'), { maxRetries: 0 }))
  t.is(limited?.code, 'RATE_LIMITED', limited?.message)
  t.is(server.requests.length, 3)
  server.failNext({ status: 502 }, { status: 504 })
  t.is((await provider.chat(user('x'), { maxRetries: 3 })).text, 'Echo: x')
})

test.serial('timeoutMs bounds the whole call with TIMEOUT; a stream too', async (t) => {
  const { provider } = await setup(t, 'native', { latencyMs: SLOW_PATH_MS })
  const [error, ms] = await timed(() => failure(t, provider.chat(user('x'), { timeoutMs: 150 })))
  t.is(error?.code, 'TIMEOUT')
  t.true(ms >= 150 && ms < 150 + SLACK_MS, `took ${ms} ms (the answer was a minute away)`)
  const streamed = await failure(t, provider.chatStream(user('x'), { timeoutMs: 150 }).collect())
  t.is(streamed?.code, 'TIMEOUT')
})

test('an already-aborted signal rejects every call at once; embed, complete and listModels abort mid-request', async (t) => {
  const { server, provider, registry } = await setup(t, 'native', { latencyMs: SLOW_PATH_MS })
  const signal = AbortSignal.abort()
  for (const call of [
    () => provider.chat(user('x'), { signal }),
    () => provider.chatStream(user('x'), { signal }).collect(),
    () => provider.embed('x', { signal }),
    () => provider.complete({ prompt: 'x' }, { signal }),
    () => provider.listModels({ signal }),
    () => registry.listModels('p', { signal }),
  ]) {
    t.is((await failure(t, call))?.code, 'ABORTED')
  }
  t.is(server.requests.length, 0)
  for (const call of [
    (s: AbortSignal) => provider.embed('x', { signal: s }),
    (s: AbortSignal) => provider.complete({ prompt: 'x' }, { signal: s }),
    (s: AbortSignal) => provider.listModels({ signal: s }),
  ]) {
    const controller = new AbortController()
    const before = server.requests.length
    const pending = call(controller.signal)
    t.true(await eventually(() => server.requests.length === before + 1))
    controller.abort()
    t.is((await failure(t, pending))?.code, 'ABORTED')
  }
  t.true(await eventually(() => server.openConnections() === 0))
})

test('an abort that comes as a Wasm call ends never stops the next call on that instance', async (t) => {
  // One instance, so every call reuses it unless an abort discarded it. Aborts land anywhere: before
  // the call starts, while it runs, or just after it ended with the answer not yet taken.
  const { provider } = await setup(t, 'wasm v2', {}, { max_instances: 1 })
  for (let round = 0; round < 60; round++) {
    const controller = new AbortController()
    const aborted = provider.chat(user(`r${round}`), { signal: controller.signal }).catch((e: unknown) => e)
    setTimeout(() => controller.abort(), round % 6)
    const first = await aborted
    if (!('text' in (first as object))) t.is((first as { code?: string }).code, 'ABORTED', `round ${round}`)
    t.is((await provider.chat(user(`next ${round}`))).text, `Echo: next ${round}`, `round ${round}`)
  }
})

test('registry.close() aborts a stream in flight', async (t) => {
  for (const kind of ['native', 'wasm v2', 'wasm v1'] as const) {
    const words = Array.from({ length: 100 }, (_, i) => `w${i}`).join(' ')
    const { server, provider, registry } = await setup(t, kind, { chunkDelayMs: 50, reply: () => words })
    const iterator = provider.chatStream(user('x'))[Symbol.asyncIterator]()
    await iterator.next()
    const pending = iterator.next().then(() => iterator.next())
    await registry.close()
    t.is((await failure(t, pending))?.code, 'ABORTED', kind)
    t.true(await eventually(() => server.openConnections() === 0), kind)
  }
})

test('a provider that cannot stream answers whole, as the same events', async (t) => {
  const registry = await PluginRegistry.fromConfig({
    providers: [{ name: 'bot', path: plugin('scripted'), config: { default_reply: 'bot heard {{input}}' } }],
  })
  t.teardown(() => registry.close())
  const bot = await registry.builder('bot').build()
  const events = await collectEvents(bot.chatStream(user('hi')))
  t.deepEqual(events[0], { type: 'text', text: 'bot heard hi' })
  t.is(events.at(-1)?.type, 'done')
  t.deepEqual(await bot.chatStream(user('hi')).collect(), await bot.chat(user('hi')))
})

test('max_response_bytes bounds a stream too (RESPONSE_TOO_LARGE, not a truncated answer)', async (t) => {
  const long = Array.from({ length: 2000 }, (_, i) => `word${i}`).join(' ')
  const { provider } = await setup(t, 'native', { reply: () => long }, { max_response_bytes: 16 * 1024 })
  const error = await failure(t, provider.chatStream(user('x')).collect())
  t.is(error?.code, 'RESPONSE_TOO_LARGE')
})

test('toolChoice on a plugin without a tool_choice config key is UNSUPPORTED', async (t) => {
  const registry = await PluginRegistry.fromConfig({
    providers: [{ name: 'bot', path: plugin('scripted') }],
  })
  t.teardown(() => registry.close())
  const bot = await registry.builder('bot').build()
  const error = await failure(t, bot.chat(user('hi'), { tools, toolChoice: 'required' }))
  t.is(error?.code, 'UNSUPPORTED')
  t.regex(error!.message, /tool_choice/)
})

test('close() on a stream never read frees its connection', async (t) => {
  const words = Array.from({ length: 100 }, (_, i) => `w${i}`).join(' ')
  const { server, provider } = await setup(t, 'native', { chunkDelayMs: 50, reply: () => words })
  const stream = provider.chatStream(user('x'))
  t.true(await eventually(() => server.openConnections() === 1))
  stream.close()
  t.true(await eventually(() => server.openConnections() === 0), 'the connection stayed open')
  t.deepEqual(await collectEvents(stream), [], 'a closed stream reads as ended')
})

test('a ChatStream is read once', async (t) => {
  const { provider } = await setup(t, 'native')
  const stream = provider.chatStream(user('x'))
  await stream.collect()
  t.is((await failure(t, stream.collect()))?.code, 'INVALID_REQUEST')
})

test('next() called again before the last call settled hands out the events in order, once each', async (t) => {
  const words = Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ')
  const { provider } = await setup(t, 'native', { reply: () => words })
  const expected = await collectEvents(provider.chatStream(user('x')))
  const iterator = provider.chatStream(user('x'))[Symbol.asyncIterator]()
  // All requested at once, as a reader that does not await between calls would.
  const results = await Promise.all(Array.from({ length: expected.length + 2 }, () => iterator.next()))
  t.deepEqual(
    results.filter((r) => !r.done).map((r) => r.value),
    expected,
  )
  t.true(results.slice(expected.length).every((r) => r.done))
})

test('leaving a stream early (return) ends it: later next() calls are done', async (t) => {
  const words = Array.from({ length: 200 }, (_, i) => `w${i}`).join(' ')
  const { server, provider } = await setup(t, 'native', { reply: () => words, chunkDelayMs: 5 })
  const iterator = provider.chatStream(user('x'))[Symbol.asyncIterator]()
  t.false((await iterator.next()).done)
  t.deepEqual(await iterator.return!(), { value: undefined, done: true })
  t.deepEqual(await iterator.next(), { value: undefined, done: true })
  t.true(await eventually(() => server.openConnections() === 0), 'the connection stayed open')
})

test('a slow reader does not make the host buffer the stream (host memory measured in a child process)', async (t) => {
  // 50,000 events of 2 KB: a 100 MB answer. While the reader sleeps, the host must stop reading.
  const word = 'x'.repeat(2000)
  const answer = Array.from({ length: 50_000 }, () => word).join(' ')
  const server = await startMockOpenAI({ reply: () => answer })
  t.teardown(() => server.close())
  const child = spawn(process.execPath, [
    join(root, '__test__', 'children', 'slow-consumer.mjs'),
    server.url,
    plugin('openai'),
    cacheDir,
  ])
  const reports: Array<{
    phase: string
    rss: number
    count?: number
    characters?: number
    streamed: number
  }> = []
  const lines = createInterface({ input: child.stdout })
  // While the reader is paused, the server is held back by TCP flow control: what it has sent
  // stops growing. The child resumes once that has held for a second (or after 30 s, when the
  // assertions below fail).
  let sampleDuringPause = 0
  let heldBack = false
  lines.on('line', (line) => {
    const report = { ...JSON.parse(line), streamed: server.streamedBytes() }
    reports.push(report)
    if (report.phase !== 'paused') return
    void (async () => {
      let last = server.streamedBytes()
      let stableSince = Date.now()
      heldBack = await eventually(() => {
        const now = server.streamedBytes()
        if (now !== last) [last, stableSince] = [now, Date.now()]
        return Date.now() - stableSince >= 1000
      }, 30_000)
      sampleDuringPause = server.streamedBytes()
      child.stdin.write('resume\n')
    })()
  })
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve))
  t.is(status, 0, stderr)
  const [paused, resumed, done] = reports
  t.deepEqual(
    reports.map((r) => r.phase),
    ['paused', 'resumed', 'done'],
  )
  t.is(done!.count, 50_000)
  t.is(done!.characters, answer.length)
  const MB = 1024 * 1024
  const total = done!.streamed
  t.true(total > 100 * MB)
  // While the reader was paused the server was held back: it stopped sending after a small part
  // of the answer.
  t.true(heldBack, 'the server kept sending during the pause')
  t.true(sampleDuringPause < 32 * MB, `server had sent ${(sampleDuringPause / MB).toFixed(1)} MB`)
  const growth = resumed!.rss - paused!.rss
  t.true(growth < 48 * MB, `host RSS grew ${(growth / MB).toFixed(1)} MB during the pause`)
  t.log(
    `sent before/at end of pause: ${(paused!.streamed / MB).toFixed(1)}/${(resumed!.streamed / MB).toFixed(1)} MB of ${(total / MB).toFixed(0)} MB; ` +
      `host RSS ${(paused!.rss / MB).toFixed(0)} → ${(resumed!.rss / MB).toFixed(0)} MB during the pause, ${(done!.rss / MB).toFixed(0)} MB at the end`,
  )
})
