import test from 'ava'
import { PluginRegistry } from 'modelport'

import { failure, plugin, SLACK_MS, timed } from './helpers'

async function scripted(config: Record<string, unknown> = {}) {
  const registry = await PluginRegistry.fromConfig({
    providers: [{ name: 'bot', path: plugin('scripted'), config }],
  })
  return { registry, provider: await registry.builder('bot').build() }
}

test('echoes by default and answers from the first matching rule', async (t) => {
  const { provider } = await scripted({
    rules: [
      { when_contains: 'weather', reply: 'sunny' },
      { when_contains: 'weather', reply: 'never reached' },
    ],
  })
  t.is((await provider.chat([{ role: 'user', content: 'hello' }])).text, 'hello')
  const answer = await provider.chat([{ role: 'user', content: 'the weather?' }])
  t.is(answer.text, 'sunny')
  t.is(answer.finishReason, 'stop')
  t.deepEqual(answer.usage, { inputTokens: 2, outputTokens: 1 })
})

test('rules can call offered tools and fail with typed errors', async (t) => {
  const { provider } = await scripted({
    rules: [
      {
        when_contains: 'lookup',
        reply: '',
        tool_calls: [{ name: 'search', arguments: { q: 'x' } }, { name: 'not_offered' }],
      },
      { when_contains: 'slow down', error: { type: 'rate_limited', message: 'too many requests' } },
      { when_contains: 'broken', error: { type: 'provider_error', message: 'it broke' } },
    ],
  })
  const call = await provider.chat([{ role: 'user', content: 'lookup please' }], {
    tools: [{ name: 'search', parameters: { type: 'object' } }],
  })
  t.is(call.finishReason, 'toolCalls')
  t.deepEqual(
    call.toolCalls.map((c) => [c.name, c.arguments]),
    [['search', '{"q":"x"}']],
  )
  const limited = await failure(t, provider.chat([{ role: 'user', content: 'slow down' }]))
  t.is(limited?.code, 'RATE_LIMITED')
  t.is(limited?.plugin, 'bot')
  t.is((await failure(t, provider.chat([{ role: 'user', content: 'broken' }])))?.code, 'PROVIDER_ERROR')
})

test('embed, complete and listModels', async (t) => {
  const { registry, provider } = await scripted({ embedding_dimensions: 16, models: ['a', 'b'] })
  const [one, two, again] = await provider.embed(['x', 'y', 'x'])
  t.is(one?.length, 16)
  t.deepEqual(one, again)
  t.notDeepEqual(one, two)
  t.deepEqual(await provider.complete({ prompt: 'one two three four', maxTokens: 2 }), { text: 'one two' })
  t.deepEqual(await registry.listModels('bot'), ['a', 'b'])
})

test.serial(
  'simulated latency runs on the plugin’s own timers, concurrently, off the JS thread',
  async (t) => {
    const { provider } = await scripted({ latency_ms: 1000 })
    let ticks = 0
    const timer = setInterval(() => ticks++, 10)
    const [answers, ms] = await timed(() =>
      Promise.all(Array.from({ length: 20 }, (_, i) => provider.chat([{ role: 'user', content: `n${i}` }]))),
    )
    clearInterval(timer)
    t.deepEqual(
      answers.map((a) => a.text),
      Array.from({ length: 20 }, (_, i) => `n${i}`),
    )
    // One after the other, the twenty would take 20 s.
    t.true(ms >= 999 && ms < 1000 + SLACK_MS, `took ${ms} ms`)
    t.true(ticks >= 5, `the event loop kept running (${ticks} ticks)`)
  },
)

test('require_api_key makes a missing key an AUTH error', async (t) => {
  const { provider } = await scripted({ require_api_key: 'secret' })
  t.is((await failure(t, provider.chat([{ role: 'user', content: 'x' }])))?.code, 'AUTH')
  const { provider: keyed } = await scripted({ require_api_key: 'secret', api_key: 'secret' })
  t.is((await keyed.chat([{ role: 'user', content: 'x' }])).text, 'x')
})
