// The native C ABI across compilers and allocators: the same OpenAI scenarios through a plugin
// written in C (clang + cJSON), the openai plugin built by Debian's rustc (another version than
// the one that built this binding) and the openai plugin with mimalloc as its global allocator;
// the scripted plugin built by Debian's rustc (asynchronous tasks woken by the plugin's own
// timer thread); and every panic point of the asynchronous ABI. The fixtures are built by
// `npm test` (scripts/compat-fixtures.mjs).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import test, { type ExecutionContext } from 'ava'
import { type ChatStreamEvent, PluginRegistry, type Provider } from 'modelport'
import { startMockOpenAI, type MockOpenAI } from 'modelport/testing'

import { failure, fixture, plugin, root } from './helpers'

const PLUGINS = [
  { label: 'C (clang + cJSON)', file: fixture('openai_c'), takesTopP: false },
  { label: 'another rustc', file: fixture('second_rustc/openai'), takesTopP: true },
  { label: 'mimalloc allocator', file: fixture('openai_mimalloc'), takesTopP: true },
] as const

/** The `rustc version …` an ELF file's .comment names, if any. */
function rustcOf(file: string): string | undefined {
  return /rustc version (\d+\.\d+\.\d+)/.exec(readFileSync(file).toString('latin1'))?.[1]
}

test('the fixtures are what they claim: another rustc than the binding, C without Rust, mimalloc linked in', (t) => {
  const binding = rustcOf(join(root, 'modelport.linux-x64-gnu.node'))
  const second = rustcOf(fixture('second_rustc/openai'))
  t.truthy(binding)
  t.truthy(second)
  t.not(second, binding, `the plugin's rustc (${second}) must differ from the binding's (${binding})`)
  t.is(rustcOf(fixture('second_rustc/scripted')), second)
  const c = readFileSync(fixture('openai_c')).toString('latin1')
  t.regex(c, /clang version/)
  t.is(rustcOf(fixture('openai_c')), undefined)
  t.true(readFileSync(fixture('openai_mimalloc')).includes('mi_malloc'))
  t.false(readFileSync(plugin('openai')).includes('mi_malloc'))
})

async function setup(t: ExecutionContext, file: string, config: Record<string, unknown> = {}) {
  const mock = await startMockOpenAI()
  t.teardown(() => mock.close())
  const registry = await PluginRegistry.fromConfig({
    providers: [{ name: 'p', path: file, config: { base_url: mock.url, model: 'mock-gpt-1', ...config } }],
  })
  t.teardown(() => registry.close())
  const provider = await registry.builder('p').build()
  return { mock, registry, provider }
}

async function collect(stream: AsyncIterable<ChatStreamEvent>): Promise<ChatStreamEvent[]> {
  const events: ChatStreamEvent[] = []
  for await (const event of stream) events.push(event)
  return events
}

function lastBody(mock: MockOpenAI): Record<string, unknown> {
  return mock.requests.at(-1)?.body as Record<string, unknown>
}

const hello = [{ role: 'user' as const, content: 'hello there' }]

for (const { label, file, takesTopP } of PLUGINS) {
  test(`${label}: chat, and the request it built`, async (t) => {
    const { mock, provider } = await setup(t, file)
    const response = await provider.chat(hello)
    t.is(response.text, 'Echo: hello there')
    t.is(response.finishReason, 'stop')
    t.deepEqual(response.usage, { inputTokens: 2, outputTokens: 3 })
    t.is(mock.requests.at(-1)?.path, '/v1/chat/completions')
    t.like(lastBody(mock), { model: 'mock-gpt-1', messages: [{ role: 'user', content: 'hello there' }] })
  })

  test(`${label}: a streamed answer arrives in pieces and equals the whole one`, async (t) => {
    const { provider } = await setup(t, file)
    const prompt = [{ role: 'user' as const, content: 'the quick brown fox jumps over the lazy dog' }]
    const whole = await provider.chat(prompt)
    const events = await collect(provider.chatStream(prompt))
    const texts = events.flatMap((e) => (e.type === 'text' ? [e.text] : []))
    t.true(texts.length > 5, 'the answer arrives in pieces')
    t.is(texts.join(''), whole.text ?? '')
    t.deepEqual(
      events.find((e) => e.type === 'usage'),
      { type: 'usage', usage: whole.usage! },
    )
    t.deepEqual(events.at(-1), { type: 'done', finishReason: 'stop' })
  })

  test(`${label}: embeddings and the model list`, async (t) => {
    const { mock, provider } = await setup(t, file, { embedding_model: 'mock-embed-1' })
    const vectors = await provider.embed(['alpha', 'beta', 'alpha'])
    t.is(vectors.length, 3)
    t.deepEqual(vectors[0], vectors[2])
    t.notDeepEqual(vectors[0], vectors[1])
    t.like(lastBody(mock), { model: 'mock-embed-1', input: ['alpha', 'beta', 'alpha'] })
    t.true((await provider.listModels()).length > 0)
  })

  test(`${label}: upstream failures are typed (429 RATE_LIMITED with retry-after, 401 AUTH, a broken stream)`, async (t) => {
    const { mock, provider } = await setup(t, file)
    mock.failNext({ status: 429, headers: { 'retry-after': '7' } })
    const limited = await failure(t, provider.chat(hello, { maxRetries: 0 }))
    t.is(limited?.code, 'RATE_LIMITED')
    t.is(limited?.retryAfterMs, 7000)
    mock.failNext({ status: 401 })
    t.is((await failure(t, provider.chat(hello, { maxRetries: 0 })))?.code, 'AUTH')
    t.is((await provider.chat(hello)).text, 'Echo: hello there', 'the plugin keeps working')
  })

  test(`${label}: per-call parameters reach the request; one the plugin cannot take is UNSUPPORTED, named`, async (t) => {
    const { mock, provider } = await setup(t, file)
    await provider.chat([{ role: 'system', content: 'be brief' }, ...hello], {
      temperature: 0.25,
      maxOutputTokens: 32,
    })
    const body = lastBody(mock)
    t.like(body, { temperature: 0.25, max_tokens: 32 })
    t.deepEqual((body.messages as unknown[])[0], { role: 'system', content: 'be brief' })
    const topK = await failure(t, provider.chat(hello, { topK: 5 }))
    t.is(topK?.code, 'UNSUPPORTED')
    t.regex(topK?.message ?? '', /top_k/)
    if (takesTopP) {
      await provider.chat(hello, { topP: 0.5 })
      t.like(lastBody(mock), { top_p: 0.5 })
    } else {
      t.is((await failure(t, provider.chat(hello, { topP: 0.5 })))?.code, 'UNSUPPORTED')
    }
    await provider.chat(hello)
    t.false('temperature' in lastBody(mock), 'the settings were for that call only')
  })
}

// The asynchronous ABI (plugin_factory): tasks the plugin wakes from its own timer thread.

async function scripted(
  t: ExecutionContext,
  file: string,
  config: Record<string, unknown>,
): Promise<Provider> {
  const registry = await PluginRegistry.fromConfig({ providers: [{ name: 's', path: file, config }] })
  t.teardown(() => registry.close())
  return registry.builder('s').build()
}

for (const [label, file] of [
  ['rustup', plugin('scripted')],
  ['another rustc', fixture('second_rustc/scripted')],
] as const) {
  test(`scripted (${label}): a slow answer and a word-by-word stream through pending tasks`, async (t) => {
    const interval = 1500
    const provider = await scripted(t, file, {
      latency_ms: 30,
      stream_interval_ms: interval,
      default_reply: 'one two three',
    })
    t.is((await provider.chat([{ role: 'user', content: 'x' }])).text, 'one two three')
    let first: number | undefined
    const texts: string[] = []
    for await (const event of provider.chatStream([{ role: 'user', content: 'x' }])) {
      if (event.type === 'text') {
        texts.push(event.text)
        first ??= Date.now()
      }
    }
    const rest = Date.now() - first!
    t.deepEqual(texts, ['one ', 'two ', 'three'])
    // The last word comes two intervals after the first: the first must have been handed over
    // while the plugin was still producing (a load that delays its delivery shortens this by less
    // than the interval of slack left here), not with the whole answer at the end.
    t.true(rest >= interval, `the first word arrived ${rest} ms before the end`)
  })

  test(`scripted (${label}): aborting a pending call releases its task; the plugin keeps working`, async (t) => {
    const provider = await scripted(t, file, { latency_ms: 60_000 })
    const controller = new AbortController()
    const call = provider.chat([{ role: 'user', content: 'x' }], { signal: controller.signal })
    setTimeout(() => controller.abort(), 50)
    t.is((await failure(t, call))?.code, 'ABORTED')
    const quick = await scripted(t, file, { default_reply: 'fine' })
    t.is((await quick.chat([{ role: 'user', content: 'x' }])).text, 'fine')
  })
}

test('scripted: per-call settings reach a plugin_factory plugin as call parameters', async (t) => {
  const provider = await scripted(t, plugin('scripted'), { default_reply: '{{system}}|{{input}}' })
  const answer = await provider.chat([
    { role: 'system', content: 'be brief' },
    { role: 'user', content: 'hi' },
  ])
  t.is(answer.text, 'be brief|hi')
  t.is((await provider.chat([{ role: 'user', content: 'hi' }])).text, '|hi')
  t.is(
    (await failure(t, provider.chat([{ role: 'user', content: 'hi' }], { topP: 0.1 })))?.code,
    'UNSUPPORTED',
  )
})

for (const point of ['from_config', 'list_models', 'chat', 'chat_after_wait', 'stream_mid'] as const) {
  test(`a panic in an asynchronous plugin's ${point} is PLUGIN_PANICKED with its message; the plugin keeps working`, async (t) => {
    const registry = await PluginRegistry.fromConfig({
      providers: [
        { name: 'bad', path: fixture('panicky_async'), config: { panic_in: point } },
        { name: 'good', path: fixture('panicky_async'), config: { panic_in: 'nowhere' } },
      ],
    })
    t.teardown(() => registry.close())
    const run = async () => {
      const provider = await registry.builder('bad').build()
      if (point === 'list_models') return provider.listModels()
      if (point === 'stream_mid') return collect(provider.chatStream(hello))
      return provider.chat(hello, { maxRetries: 0 })
    }
    const err = await failure(t, run())
    t.is(err?.code, 'PLUGIN_PANICKED')
    t.is(err?.plugin, 'bad')
    t.regex(err?.message ?? '', /fixture panic in .* \(at .*panicky_async\.rs:\d+:\d+\)/)
    const good = await registry.builder('good').build()
    t.is((await good.chat(hello)).text, 'ok: hello there')
    const events = await collect(good.chatStream(hello))
    t.deepEqual(
      events.flatMap((e) => (e.type === 'text' ? [e.text] : [])),
      ['first', 'ok: hello there'],
    )
  })
}

test('a plugin that writes events that are not StreamChunk JSON fails the stream with PARSE_ERROR; its sibling streams on', async (t) => {
  const hostile = await setup(t, fixture('openai_c'), { bad_events: true })
  const err = await failure(t, async () => {
    for await (const _event of hostile.provider.chatStream(hello)) {
      // nothing valid arrives
    }
  })
  t.is(err?.code, 'PARSE_ERROR')
  t.is(err?.plugin, 'p')
  t.regex(err?.message ?? '', /not what the ABI specifies/)
  const healthy = await setup(t, fixture('openai_c'))
  const texts = []
  for await (const event of healthy.provider.chatStream(hello))
    if (event.type === 'text') texts.push(event.text)
  t.is(texts.join(''), 'Echo: hello there')
})
