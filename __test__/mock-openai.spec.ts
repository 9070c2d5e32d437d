// `modelport/testing`'s mock server, checked with the official `openai` client (6.x): its
// embeddings in both of OpenAI's encodings (the client asks for base64 by default).
import test from 'ava'
import { mockEmbedding, startMockOpenAI } from 'modelport/testing'
import OpenAI from 'openai'

test("embeddings honour encoding_format: base64 (the openai client's default) is the float answer as float32; others are refused", async (t) => {
  const mock = await startMockOpenAI({ embeddingDimensions: 6 })
  t.teardown(() => mock.close())
  const client = new OpenAI({ baseURL: mock.url, apiKey: 'sk-test', maxRetries: 0 })
  const expected = ['alpha', 'beta'].map((text) => Array.from(new Float32Array(mockEmbedding(text, 6))))

  const byDefault = await client.embeddings.create({ model: 'mock-embed-1', input: ['alpha', 'beta'] })
  t.is((mock.requests.at(-1)!.body as { encoding_format?: string }).encoding_format, 'base64')
  t.deepEqual(
    byDefault.data.map((d) => d.embedding),
    expected,
  )
  const asFloats = await client.embeddings.create({
    model: 'mock-embed-1',
    input: ['alpha', 'beta'],
    encoding_format: 'float',
  })
  t.deepEqual(
    asFloats.data.map((d) => d.embedding),
    ['alpha', 'beta'].map((text) => mockEmbedding(text, 6)),
  )
  const refused = await t.throwsAsync(
    client.embeddings.create({ model: 'mock-embed-1', input: 'x', encoding_format: 'int8' as 'float' }),
  )
  t.is((refused as { status?: number }).status, 400)
})
