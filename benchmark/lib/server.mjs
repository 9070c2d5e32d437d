// The embedded OpenAI-compatible server (modelport/testing) in a process of its own, so its CPU is
// not the client's. Started by `startServer()` in a case process; prints its port as JSON.
//
// A chat whose last user message is `stream <n>` is answered, when streamed, with n
// chat.completion.chunk events of one character each (then a stop chunk and [DONE]), sent in
// pieces of up to 5,000 events.
import { fileURLToPath } from 'node:url'

import { require, root } from './env.mjs'
import { announce, startListening } from './processes.mjs'

const eventsPerPiece = 5000
const streams = new Map()

function sseEvents(count) {
  if (streams.has(count)) return streams.get(count)
  const event = (delta, finish) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 0, model: 'gpt-4o-mini', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
  const one = event({ content: 'x' }, null)
  const pieces = [event({ role: 'assistant', content: '' }, null)]
  for (let sent = 0; sent < count; sent += eventsPerPiece) {
    pieces.push(one.repeat(Math.min(eventsPerPiece, count - sent)))
  }
  pieces.push(event({}, 'stop') + 'data: [DONE]\n\n')
  streams.set(count, { pieces })
  return streams.get(count)
}

async function serve() {
  const { startMockOpenAI } = require(`${root}/dist/src/testing/index.js`)
  const server = await startMockOpenAI({
    chunkDelayMs: 0,
    rawStream: ({ lastUserText }) => {
      const match = /^stream (\d+)$/.exec(lastUserText)
      return match ? sseEvents(Number(match[1])) : undefined
    },
  })
  // The server records every request; a benchmark sends hundreds of thousands.
  setInterval(() => server.requests.splice(0), 1000).unref()
  announce(Number(new URL(server.url).port))
}

/** Starts the server process; resolves to its base URL, pid, CPU time and a `stop()`. */
export async function startServer() {
  const server = await startListening(process.execPath, [fileURLToPath(import.meta.url)])
  return { ...server, baseUrl: `http://127.0.0.1:${server.port}/v1` }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await serve()
