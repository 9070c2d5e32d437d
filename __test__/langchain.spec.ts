// `modelport/langchain` driven by `@langchain/core` itself: invoke, stream (text, tool-call chunks,
// usage), bindTools, withStructuredOutput and embeddings, against the native and the Wasm openai
// plugins on the embedded OpenAI-compatible server.
import {
  AIMessage,
  HumanMessage,
  SystemMessage,
  ToolMessage,
  type AIMessageChunk,
} from '@langchain/core/messages'
import test, { type ExecutionContext } from 'ava'
import { ModelportError, PluginRegistry, type ProviderEntry } from 'modelport'
import { ChatModelport, ModelportEmbeddings } from 'modelport/langchain'
import { startMockOpenAI, type MockOpenAI } from 'modelport/testing'

import { reasoningProvider } from './fixtures/sdk/reasoning-provider'
import { openaiRuntimes, tempDir } from './helpers'

const runtimes = openaiRuntimes

async function setup(t: ExecutionContext, entry: (url: string) => ProviderEntry) {
  const mock = await startMockOpenAI()
  t.teardown(() => mock.close())
  const registry = await PluginRegistry.fromConfig({ providers: [entry(mock.url)], cache_dir: tempDir() })
  t.teardown(() => registry.close())
  return { mock, registry, chat: new ChatModelport({ registry, provider: 'openai' }) }
}

function lastBody(mock: MockOpenAI): Record<string, unknown> {
  return mock.requests.filter((r) => r.path.endsWith('/chat/completions')).at(-1)?.body as Record<
    string,
    unknown
  >
}

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
}

for (const [runtime, entry] of runtimes) {
  test(`${runtime}: invoke answers an AI message with usage; a tool loop goes through bindTools`, async (t) => {
    const { mock, chat } = await setup(t, entry)
    const answer = await chat.invoke([new SystemMessage('be brief'), new HumanMessage('hello langchain')])
    t.is(answer.content, 'Echo: hello langchain')
    t.true((answer.usage_metadata?.input_tokens ?? 0) > 0)
    t.is(answer.response_metadata['finish_reason'], 'stop')

    const withTools = chat.bindTools([weatherTool])
    const call = await withTools.invoke([new HumanMessage('get_weather city=Oslo')])
    t.deepEqual(
      call.tool_calls?.map((c) => [c.name, c.args]),
      [['get_weather', { city: 'Oslo' }]],
    )
    const followUp = await withTools.invoke([
      new HumanMessage('get_weather city=Oslo'),
      new AIMessage({ content: '', tool_calls: call.tool_calls ?? [] }),
      new ToolMessage({ content: 'rainy', tool_call_id: call.tool_calls![0]!.id! }),
    ])
    t.is(followUp.content, 'Tool result received: rainy')
    const messages = lastBody(mock)['messages'] as Array<{ role: string }>
    t.deepEqual(
      messages.map((m) => m.role),
      ['user', 'assistant', 'tool'],
    )
  })

  test(`${runtime}: stream gives text chunks, tool-call chunks that concatenate into the call, and usage`, async (t) => {
    const { chat } = await setup(t, entry)
    let text: AIMessageChunk | undefined
    let pieces = 0
    for await (const chunk of await chat.stream('stream me please')) {
      text = text ? text.concat(chunk) : chunk
      if (typeof chunk.content === 'string' && chunk.content.length > 0) pieces++
    }
    t.is(text?.content, 'Echo: stream me please')
    t.true(pieces > 1)
    t.true((text?.usage_metadata?.output_tokens ?? 0) > 0)

    let tools: AIMessageChunk | undefined
    let toolChunks = 0
    for await (const chunk of await chat.bindTools([weatherTool]).stream('get_weather city=Bergen')) {
      toolChunks += chunk.tool_call_chunks?.length ?? 0
      tools = tools ? tools.concat(chunk) : chunk
    }
    t.true(toolChunks >= 2)
    t.deepEqual(
      tools?.tool_calls?.map((c) => [c.name, c.args]),
      [['get_weather', { city: 'Bergen' }]],
    )
  })

  test(`${runtime}: withStructuredOutput answers the schema's object; embeddings match the provider's`, async (t) => {
    const { registry, chat } = await setup(t, entry)
    const structured = chat.withStructuredOutput(
      { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      { name: 'extract' },
    )
    t.deepEqual(await structured.invoke('extract city=Paris'), { city: 'Paris' })

    const embeddings = new ModelportEmbeddings({ registry, provider: 'openai' })
    const documents = await embeddings.embedDocuments(['a', 'b'])
    const direct = await (await registry.builder('openai').build()).embed(['a', 'b'])
    t.deepEqual(
      documents,
      direct.map((v) => Array.from(v)),
    )
    t.deepEqual(await embeddings.embedQuery('a'), documents[0])
  })

  test(`${runtime}: a failure is the ModelportError, not retried by LangChain`, async (t) => {
    const { mock, chat } = await setup(t, entry)
    mock.failNext({ status: 401 })
    const error = await t.throwsAsync(chat.invoke('x'))
    t.true(error instanceof ModelportError)
    t.is((error as ModelportError).code, 'AUTH')
    t.is(mock.requests.length, 1)
  })
}

test('ChatModelport: its defaults apply unless a call sets the same setting; streamed reasoning arrives as reasoning_content', async (t) => {
  const mock = await startMockOpenAI()
  t.teardown(() => mock.close())
  const registry = await PluginRegistry.fromConfig({
    providers: [openaiRuntimes[0]![1](mock.url)],
    cache_dir: tempDir(),
  })
  t.teardown(() => registry.close())
  const chat = new ChatModelport({
    registry,
    provider: 'openai',
    defaults: { temperature: 0.1, maxOutputTokens: 30 },
  })
  await chat.invoke('with defaults')
  t.like(lastBody(mock), { temperature: 0.1, max_tokens: 30 })
  await chat.invoke('a call of its own', { temperature: 0.9 })
  t.like(lastBody(mock), { temperature: 0.9, max_tokens: 30 })

  const thinker = reasoningProvider()
  await registry.register(thinker.pluginExport)
  const thinking = new ChatModelport({ registry, provider: 'thinker' })
  let reasoning = ''
  let text = ''
  for await (const chunk of await thinking.stream('why?')) {
    reasoning += (chunk.additional_kwargs['reasoning_content'] as string | undefined) ?? ''
    text += typeof chunk.content === 'string' ? chunk.content : ''
  }
  t.is(reasoning, 'Let me think. Done thinking.')
  t.is(text, 'Answer: why?')
})
