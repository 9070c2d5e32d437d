// modelport's gateway (modelport/gateway) in a process of its own, serving the release-built native
// `openai` plugin pointed at an upstream: `startGateway(upstreamBaseUrl)` → `{ baseUrl, … }`.
import { fileURLToPath } from 'node:url'

import { nativePlugin, require, root } from './env.mjs'
import { announce, startListening } from './processes.mjs'

async function serveGateway(upstream) {
  const { serve } = require(`${root}/dist/src/gateway/index.js`)
  const gateway = await serve({
    config: {
      providers: [
        {
          name: 'openai',
          path: nativePlugin('openai'),
          config: { base_url: upstream, model: 'gpt-4o-mini', api_key: 'sk-benchmark' },
        },
      ],
    },
    port: 0,
    // The load generator keeps up to 64 requests in flight; the default limit (256) is not reached.
  })
  announce(Number(new URL(gateway.url).port))
}

export async function startGateway(upstream) {
  const server = await startListening(process.execPath, [fileURLToPath(import.meta.url), upstream])
  return { ...server, baseUrl: `http://127.0.0.1:${server.port}/v1` }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await serveGateway(process.argv[2])
