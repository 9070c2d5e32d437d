// The HTTP chat clients the HTTP and streaming cases compare, all pointed at the same server:
// modelport's native and Wasm `openai` providers (the AssemblyScript fixture and QueryMT's own
// Rust-built plugin), Node's fetch, and the official `openai` client.
import { modelport, nativePlugin, querymtPlugin, require, wasmPlugin } from './env.mjs'

const model = 'gpt-4o-mini'
const apiKey = 'sk-benchmark'

/** Builds the clients; each has `chat(text) → answer text` and `stream(text) → chunk count`. */
export async function chatClients(baseUrl) {
  const { PluginRegistry } = modelport()
  const { createParser } = require('eventsource-parser')
  const { default: OpenAI } = require('openai')
  const config = { base_url: baseUrl, model, api_key: apiKey }
  const registry = await PluginRegistry.fromConfig({
    providers: [
      { name: 'openai', path: nativePlugin('openai'), config },
      { name: 'openai-wasm', path: wasmPlugin('openai_v2'), config },
      { name: 'openai-querymt', path: querymtPlugin, config },
    ],
  })
  const native = await registry.builder('openai').build()
  const wasm = await registry.builder('openai-wasm').build()
  const querymt = await registry.builder('openai-querymt').build()
  const openai = new OpenAI({ apiKey, baseURL: baseUrl, maxRetries: 0 })
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` }
  const post = async (text, stream) => {
    const response = await fetch(`${baseUrl}/chat/completions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ model, messages: [{ role: 'user', content: text }], stream }),
    })
    if (!response.ok) throw new Error(`HTTP ${response.status}`)
    return response
  }

  const viaProvider = (provider) => ({
    chat: async (text) => (await provider.chat([{ role: 'user', content: text }])).text,
    stream: async (text) => {
      let chunks = 0
      for await (const event of provider.chatStream([{ role: 'user', content: text }])) {
        if (event.type === 'text') chunks++
      }
      return chunks
    },
  })
  const clients = {
    'modelport native': viaProvider(native),
    'modelport Wasm': viaProvider(wasm),
    'modelport Wasm (QueryMT)': viaProvider(querymt),
    'fetch + JSON.parse': {
      chat: async (text) => JSON.parse(await (await post(text, false)).text()).choices[0].message.content,
      // fetch + eventsource-parser, the way a hand-written streaming client reads SSE.
      stream: async (text) => {
        const response = await post(text, true)
        let chunks = 0
        const parser = createParser({
          onEvent: ({ data }) => {
            if (data === '[DONE]') return
            if (JSON.parse(data).choices[0]?.delta?.content) chunks++
          },
        })
        const decoder = new TextDecoder()
        for await (const bytes of response.body) parser.feed(decoder.decode(bytes, { stream: true }))
        return chunks
      },
    },
    'openai npm client': {
      chat: async (text) =>
        (await openai.chat.completions.create({ model, messages: [{ role: 'user', content: text }] }))
          .choices[0].message.content,
      stream: async (text) => {
        let chunks = 0
        const stream = await openai.chat.completions.create({
          model,
          messages: [{ role: 'user', content: text }],
          stream: true,
        })
        for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) chunks++
        return chunks
      },
    },
  }
  return { clients, close: () => registry.close() }
}
