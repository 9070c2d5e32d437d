// A chat call's own settings (generation parameters, response format, headers, system prompts)
// reach the upstream request for this call only, for native and Wasm providers; what a plugin
// cannot take is UNSUPPORTED, naming it; derived providers are cached; the timeout covers all.
import { join } from 'node:path'

import test, { type ExecutionContext } from 'ava'
import { PluginRegistry, type ProviderEntry } from 'modelport'
import { startMockOpenAI, type MockOpenAI, type MockOpenAIOptions } from 'modelport/testing'

import { failure, openaiEntry, root, SLACK_MS, tempDir, wasmProvider } from './helpers'

const CACHE_DIR = tempDir()
const QUERYMT = (file: string) => join(root, 'wasm', 'thirdparty', 'querymt', file)

async function mock(t: ExecutionContext, options: MockOpenAIOptions = {}): Promise<MockOpenAI> {
  const server = await startMockOpenAI(options)
  t.teardown(() => server.close())
  return server
}

async function registry(t: ExecutionContext, providers: ProviderEntry[]): Promise<PluginRegistry> {
  const registry = await PluginRegistry.fromConfig({ providers, cache_dir: CACHE_DIR })
  t.teardown(() => registry.close())
  return registry
}

/** The JSON body of the last chat request the server saw. */
function lastChat(server: MockOpenAI): Record<string, unknown> {
  const request = server.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)
  return (request?.body ?? {}) as Record<string, unknown>
}

const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] }

test('native: every parameter reaches the request, for this call only; topK is UNSUPPORTED', async (t) => {
  const server = await mock(t)
  const provider = await (await registry(t, [openaiEntry(server.url)])).builder('openai').build()
  await provider.chat(
    [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'hi' },
    ],
    {
      temperature: 0.3,
      maxOutputTokens: 50,
      topP: 0.9,
      stopSequences: ['END'],
      seed: 7,
      responseFormat: { schema, name: 'answer', strict: true },
      headers: { 'x-trace': 'abc' },
      parameters: { reasoning_effort: 'low' },
    },
  )
  t.like(lastChat(server), {
    temperature: 0.3,
    max_tokens: 50,
    top_p: 0.9,
    stop: ['END'],
    seed: 7,
    reasoning_effort: 'low',
    response_format: { type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } },
  })
  t.is(server.requests.at(-1)?.headers['x-trace'], 'abc')
  const system = (lastChat(server)['messages'] as Array<{ role: string; content: unknown }>)[0]
  t.deepEqual(system, { role: 'system', content: 'be brief' })

  await provider.chat([{ role: 'user', content: 'again' }], { responseFormat: 'json' })
  t.deepEqual(lastChat(server)['response_format'], { type: 'json_object' })
  t.is(lastChat(server)['temperature'], undefined, "the earlier call's settings stay with it")
  t.is(server.requests.at(-1)?.headers['x-trace'], undefined)

  const before = server.requests.length
  const err = await failure(t, provider.chat([{ role: 'user', content: 'x' }], { topK: 5 }))
  t.is(err?.code, 'UNSUPPORTED')
  t.regex(err?.message ?? '', /topK.*top_k/)
  t.is(server.requests.length, before, 'nothing was sent')
})

test("Wasm (QueryMT's plugin, the AssemblyScript fixture): parameters reach the request; seed is UNSUPPORTED where the schema has none", async (t) => {
  const server = await mock(t)
  const reg = await registry(t, [
    {
      name: 'querymt',
      path: QUERYMT('qmt_openai.wasm'),
      config: { base_url: server.url, model: 'mock-gpt-1' },
    },
    {
      name: 'fixture',
      path: wasmProvider('openai_v2'),
      config: { base_url: server.url, model: 'mock-gpt-1' },
    },
  ])
  const querymt = await reg.builder('querymt').build()
  await querymt.chat([{ role: 'user', content: 'hi' }], {
    temperature: 0.2,
    maxOutputTokens: 40,
    topP: 0.5,
    topK: 3,
    responseFormat: { schema, name: 'answer' },
  })
  t.like(lastChat(server), {
    temperature: 0.2,
    max_tokens: 40,
    top_p: 0.5,
    top_k: 3,
    response_format: { type: 'json_schema', json_schema: { name: 'answer', schema } },
  })
  const seed = await failure(t, querymt.chat([{ role: 'user', content: 'x' }], { seed: 1 }))
  t.is(seed?.code, 'UNSUPPORTED')
  t.regex(seed?.message ?? '', /seed/)

  const fixture = await reg.builder('fixture').build()
  await fixture.chat([{ role: 'user', content: 'hi' }], { temperature: 1.5, maxOutputTokens: 9 })
  t.like(lastChat(server), { temperature: 1.5, max_tokens: 9 })
  await fixture.chat([{ role: 'user', content: 'plain' }])
  t.is(lastChat(server)['temperature'], undefined)
})

test('1,000 calls alternating two system prompts build two derived providers, not a thousand', async (t) => {
  const reg = await registry(t, [
    { name: 'echo', path: wasmProvider('echo_provider'), max_instances: 1, config: { count_configs: true } },
  ])
  const provider = await reg.builder('echo').build()
  let last = ''
  for (let i = 0; i < 1000; i++) {
    const system = i % 2 === 0 ? 'prompt A' : 'prompt B'
    last =
      (
        await provider.chat([
          { role: 'system', content: system },
          { role: 'user', content: 'x' },
        ])
      ).text ?? ''
  }
  // One from_config for the provider itself, one for each distinct call config.
  t.is(last, 'configs=3')
})

test.serial(
  'a call whose deadline passes while its provider is derived is TIMEOUT: one clock for the whole call',
  async (t) => {
    // QueryMT's v1 plugin holds its only instance for the whole call (its HTTP included): a derived
    // provider's from_config waits for that instance, and the call's own HTTP comes after.
    const latencyMs = 1500
    const server = await mock(t, { latencyMs })
    const reg = await registry(t, [
      {
        name: 'v1',
        path: QUERYMT('qmt_openai_v1.wasm'),
        wasi: true,
        max_instances: 1,
        timeout_ms: 0,
        config: { base_url: server.url, model: 'mock-gpt-1' },
      },
    ])
    const provider = await reg.builder('v1').build()
    const busy = provider.chat([{ role: 'user', content: 'holding the instance' }])
    while (server.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10))
    // Derivation waits ≥ latencyMs for the instance, then the call's own request takes ≥ latencyMs
    // more: past a 2 s deadline, whatever the machine's load.
    const started = Date.now()
    const err = await failure(
      t,
      provider.chat(
        [
          { role: 'system', content: 'derived' },
          { role: 'user', content: 'x' },
        ],
        {
          timeoutMs: 2000,
        },
      ),
    )
    t.is(err?.code, 'TIMEOUT')
    t.true(Date.now() - started < 2000 + SLACK_MS)
    t.is((await busy).text, 'Echo: holding the instance')
  },
)
