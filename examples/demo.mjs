// The modelport demo: loads a native HTTP provider (openai), the same provider as a sandboxed
// Wasm plugin (openai-wasm), QueryMT's own OpenAI Wasm plugin (querymt-openai), and a native
// non-HTTP provider (scripted) from examples/plugins.toml, and shows chat, streaming, a tool-call
// round trip, embeddings, a completion, speech and transcription, and model lists. The openai provider talks to an embedded OpenAI-compatible server that this demo
// starts, unless MODELPORT_DEMO_BASE_URL points it at a real endpoint (with OPENAI_API_KEY, and
// MODELPORT_DEMO_MODEL / MODELPORT_DEMO_EMBEDDING_MODEL to pick models).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { ModelportError, PluginRegistry } from 'modelport'
import { localEmbedder, providerEmbedder, sandboxedToolExecutor, sqliteVectors } from 'modelport/sdk'
import { startMockOpenAI } from 'modelport/testing'

const here = dirname(fileURLToPath(import.meta.url))
const heading = (text) => console.log(`\n\x1b[1m${text}\x1b[0m`)

const realEndpoint = process.env.MODELPORT_DEMO_BASE_URL
// A small delay between streamed tokens makes streaming visible.
const server = realEndpoint ? undefined : await startMockOpenAI({ chunkDelayMs: 40 })
const baseUrl = realEndpoint ?? server.url
const model = process.env.MODELPORT_DEMO_MODEL ?? (realEndpoint ? 'gpt-4o-mini' : 'mock-gpt-1')
const embeddingModel =
  process.env.MODELPORT_DEMO_EMBEDDING_MODEL ?? (realEndpoint ? 'text-embedding-3-small' : 'mock-embed-1')

const registry = await PluginRegistry.fromFile(join(here, 'plugins.toml'))
try {
  heading('Plugins (examples/plugins.toml)')
  for (const report of await registry.loadAll()) {
    const info = registry.list().find((p) => p.name === report.name)
    console.log(
      report.ok
        ? `  ✓ ${report.name}: ${report.kind} plugin '${info?.provider}'${info?.version ? ` v${info.version}` : ''}, ${info?.hostHttp ? 'host performs its HTTP' : 'works by itself'}${info?.compiledFromCache ? ' (compiled module from cache)' : ''}`
        : `  ✗ ${report.name}: ${report.error?.code} ${report.error?.message}`,
    )
  }
  console.log(
    `  openai, openai-wasm, querymt-openai → ${server ? `embedded OpenAI-compatible server at ${baseUrl}` : baseUrl}`,
  )

  const openai = await registry
    .builder('openai')
    .baseUrl(baseUrl)
    .model(model)
    .parameter('embedding_model', embeddingModel)
    .system('You are a concise assistant.')
    .build()
  const openaiWasm = await registry
    .builder('openai-wasm')
    .baseUrl(baseUrl)
    .model(model)
    .parameter('embedding_model', embeddingModel)
    .system('You are a concise assistant.')
    .build()
  const querymt = await registry
    .builder('querymt-openai')
    .baseUrl(baseUrl)
    .model(model)
    .system('You are a concise assistant.')
    .build()
  const scripted = await registry.builder('scripted').build()

  for (const [name, provider] of [
    ['openai', openai],
    ['openai-wasm', openaiWasm],
    ['querymt-openai', querymt],
    ['scripted', scripted],
  ]) {
    heading(`Chat · ${name}`)
    const question = 'What is the weather like in Lisbon today?'
    const answer = await provider.chat([{ role: 'user', content: question }])
    console.log(`  user:      ${question}`)
    console.log(`  assistant: ${answer.text}`)
    console.log(`  finish=${answer.finishReason} usage=${JSON.stringify(answer.usage)}`)
  }

  for (const [name, provider] of [
    ['openai', openai],
    ['openai-wasm', openaiWasm],
    ['querymt-openai', querymt],
    ['scripted', scripted],
  ]) {
    heading(`Streaming · ${name}`)
    const question = 'Tell me about modelport in a few words.'
    console.log(`  user:      ${question}`)
    process.stdout.write('  assistant: ')
    let tokens = 0
    for await (const event of provider.chatStream([{ role: 'user', content: question }])) {
      if (event.type === 'text') {
        process.stdout.write(event.text)
        tokens++
      } else if (event.type === 'usage') {
        process.stdout.write(`\n  usage=${JSON.stringify(event.usage)}`)
      } else if (event.type === 'done') {
        process.stdout.write(`\n  ${tokens} text events, finish=${event.finishReason}\n`)
      }
    }
  }

  heading('Streamed tool calls · openai (two in parallel)')
  const parallel = [
    { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
    { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string' } } } },
  ]
  for await (const event of openai.chatStream(
    [{ role: 'user', content: 'Use get_weather and get_time: city=Lisbon zone=WET' }],
    { tools: parallel },
  )) {
    if (event.type === 'toolUseStart') console.log(`  [${event.index}] start ${event.name}`)
    if (event.type === 'toolUseInputDelta') console.log(`  [${event.index}] + ${event.partialJson}`)
    if (event.type === 'toolUseComplete') {
      console.log(`  [${event.index}] ${event.toolCall.name}(${event.toolCall.arguments})`)
    }
  }

  heading('Tools · openai-wasm (one round trip)')
  const tools = [
    {
      name: 'get_weather',
      description: 'Current weather for a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  ]
  const messages = [{ role: 'user', content: 'Call get_weather city=Lisbon please' }]
  const first = await openaiWasm.chat(messages, { tools })
  for (const call of first.toolCalls) console.log(`  model calls ${call.name}(${call.arguments})`)
  if (first.toolCalls.length > 0) {
    messages.push({ role: 'assistant', content: first.text, toolCalls: first.toolCalls })
    for (const call of first.toolCalls) {
      const { city } = JSON.parse(call.arguments)
      messages.push({
        role: 'tool',
        toolCallId: call.id,
        name: call.name,
        content: `${city}: 23°C, clear sky`,
      })
    }
    const second = await openaiWasm.chat(messages, { tools })
    console.log(`  assistant: ${second.text}`)
  } else {
    console.log(`  assistant (no tool call): ${first.text}`)
  }

  for (const [name, provider] of [
    ['openai', openai],
    ['openai-wasm', openaiWasm],
    ['scripted', scripted],
  ]) {
    heading(`Embeddings · ${name}`)
    const vectors = await provider.embed(['modelport loads plugins', 'plugins loaded by modelport'])
    for (const vector of vectors) {
      const head = Array.from(vector.slice(0, 4), (v) => v.toFixed(3)).join(', ')
      console.log(`  Float32Array(${vector.length}) [${head}, …]`)
    }
  }

  for (const [name, provider] of [
    ['openai', openai],
    ['querymt-openai', querymt],
  ]) {
    heading(`Speech and transcription · ${name}`)
    const sentence = 'modelport speaks and listens.'
    const speech = await provider.speech(sentence, { voice: 'alloy', format: 'mp3', model: 'tts-1' })
    console.log(`  speech(${JSON.stringify(sentence)}) → ${speech.audio.length} bytes of ${speech.mimeType}`)
    const transcript = await provider.transcribe(speech.audio, {
      mimeType: speech.mimeType,
      model: 'whisper-1',
    })
    console.log(`  transcribe(those bytes) → ${JSON.stringify(transcript.text)}`)
  }

  heading('Embedder plugins (modelport/sdk) · local-embedder, provider-embedder over openai')
  const ctx = { runId: 'demo', logger: { log() {} } }
  const local = await registry.register(localEmbedder, { dims: 64 })
  const overOpenai = await registry.register(providerEmbedder, { provider: openai })
  const cosine = (a, b) => a.reduce((sum, x, i) => sum + x * b[i], 0) / (Math.hypot(...a) * Math.hypot(...b))
  const [cat, cats, tax] = await local.embedTexts(
    ['the black cat sleeps', 'black cats sleeping', 'quarterly tax report'],
    ctx,
  )
  console.log(
    `  local-embedder (${local.dims()} dims): cat~cats ${cosine(cat, cats).toFixed(2)}, cat~tax ${cosine(cat, tax).toFixed(2)}`,
  )
  console.log(
    `  provider-embedder over openai: ${overOpenai.dims()} dims, health ${JSON.stringify(await registry.health('provider-embedder'))}`,
  )

  heading('Vector store plugin (modelport/sdk) · sqlite-vectors (SQLite + HNSW), texts by local-embedder')
  const storeDir = mkdtempSync(join(tmpdir(), 'modelport-demo-'))
  const storeConfig = { path: join(storeDir, 'memory.db'), dims: 64, embedderId: 'local-embedder/64' }
  const notes = [
    ['n1', 'the black cat sleeps on the sofa', { topic: 'pets' }],
    ['n2', 'dogs chase cats around the garden', { topic: 'pets' }],
    ['n3', 'file the quarterly tax report by friday', { topic: 'work' }],
    ['n4', 'the sprint review moved to thursday', { topic: 'work' }],
  ]
  const vectors = await local.embedTexts(
    notes.map(([, text]) => text),
    ctx,
  )
  const memory = await registry.register(sqliteVectors, storeConfig)
  await memory.upsert(
    'notes',
    notes.map(([id, content, metadata], i) => ({ id, vector: vectors[i], metadata, content })),
    ctx,
  )
  const [question] = await local.embedTexts(['where is the cat sleeping'], ctx)
  const show = (found) => found.map((m) => `${m.id} ${m.score.toFixed(2)}`).join(', ')
  console.log(
    `  query 'where is the cat sleeping' → ${show(await memory.query('notes', Float32Array.from(question), 2, ctx))}`,
  )
  const [meeting] = await local.embedTexts(['when is the review meeting'], ctx)
  const atWork = await memory.query('notes', Float32Array.from(meeting), 2, ctx, { topic: 'work' })
  console.log(`  query 'when is the review meeting' where topic = work → ${show(atWork)}`)
  // Shut down (the index is saved), then a second registry (think: the next process) reads it.
  await memory.shutdown()
  const later = await PluginRegistry.fromConfig({ providers: [] })
  const reopened = await later.register(sqliteVectors, { path: storeConfig.path })
  const again = await reopened.query('notes', Float32Array.from(question), 1, ctx)
  console.log(
    `  reopened: ${(await later.health('sqlite-vectors'))['sqlite-vectors'].message}; best match ${again[0].id}`,
  )
  await later.close()
  rmSync(storeDir, { recursive: true, force: true })

  heading('Tool executor plugin (modelport/sdk) · sandboxed-executor')
  const executor = await registry.register(sandboxedToolExecutor)
  console.log(`  ${(await executor.healthCheck()).message}`)
  const policy = { enabled: true, allowedCommands: ['echo'], timeoutMs: 5000, maxOutputBytes: 64 }
  const ran = await executor.execute({ command: 'echo', args: ['hello from a tool'] }, policy, ctx)
  console.log(`  echo → exit ${ran.exitCode}, stdout ${JSON.stringify(readFileSync(ran.stdoutPath, 'utf8'))}`)
  console.log(`  isAllowed('rm') → ${executor.isAllowed('rm', policy)}`)

  heading('Completion · openai')
  console.log(`  ${JSON.stringify((await openai.complete({ prompt: 'modelport is', maxTokens: 8 })).text)}`)

  for (const name of ['openai', 'openai-wasm', 'querymt-openai', 'scripted']) {
    heading(`Models · ${name}`)
    const models = await registry.listModels(
      name,
      name === 'scripted' ? {} : { config: { base_url: baseUrl } },
    )
    console.log(`  ${models.join(', ')}`)
  }
  console.log('')
} catch (error) {
  if (error instanceof ModelportError) {
    console.error(`\ndemo failed: ${error.code}: ${error.message}`)
  } else {
    console.error(error)
  }
  process.exitCode = 1
} finally {
  await registry.close()
  await server?.close()
}
