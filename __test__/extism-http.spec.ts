// Extism's standard HTTP host function (`http_request`, every PDK's `http::request`) for raw
// plugins, served by modelport's HTTP engine under `allowedHosts`. The plugin is built with the
// AssemblyScript PDK (wasm/as/http_fetch.ts); the servers are real, on loopback.
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

import test from 'ava'
import { ExtismPlugin } from 'modelport'

import { failure, tempDir, wasm } from './helpers'

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8')

interface Seen {
  method: string
  url: string
  body: string
  header: string | undefined
}

/** A loopback server recording what reaches it; `/redirect?to=URL` redirects, `/big` is 1 KiB. */
async function serve(): Promise<{ server: Server; port: number; seen: Seen[] }> {
  const seen: Seen[] = []
  const server = createServer(async (request: IncomingMessage, response) => {
    let body = ''
    for await (const chunk of request) body += String(chunk)
    seen.push({
      method: request.method!,
      url: request.url!,
      body,
      header: request.headers['x-plugin'] as string | undefined,
    })
    const url = new URL(request.url!, 'http://x')
    if (url.pathname === '/redirect') {
      response.writeHead(302, { location: url.searchParams.get('to')! })
      response.end()
      return
    }
    response.writeHead(url.pathname === '/missing' ? 404 : 200, { 'content-type': 'text/x-fixture' })
    response.end(
      url.pathname === '/big'
        ? 'x'.repeat(1024)
        : `${request.method} ${url.pathname} got ${JSON.stringify(body)}`,
    )
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, port: (server.address() as AddressInfo).port, seen }
}

const request = (url: string, method = 'GET', body = '') =>
  JSON.stringify({ url, method, headers: { 'x-plugin': 'http_fetch' } }) + (body ? `\n${body}` : '')

const load = (options: Parameters<typeof ExtismPlugin.load>[1] = {}) =>
  ExtismPlugin.load(wasm('http_fetch'), { cacheDir: tempDir(), ...options })

test('a PDK http request to an allowed loopback host: method, headers, body, status and response headers', async (t) => {
  const { server, port, seen } = await serve()
  t.teardown(() => server.close())
  const plugin = await load({ allowedHosts: ['127.0.0.1'] })
  t.is(
    text(await plugin.call('fetch', request(`http://127.0.0.1:${port}/hello`))),
    '200\ntext/x-fixture\nGET /hello got ""',
  )
  t.is(
    text(await plugin.call('fetch', request(`http://127.0.0.1:${port}/post`, 'POST', 'a body'))),
    '200\ntext/x-fixture\nPOST /post got "a body"',
  )
  t.is(
    text(await plugin.call('fetch', request(`http://127.0.0.1:${port}/missing`))),
    '404\ntext/x-fixture\nGET /missing got ""',
  )
  t.deepEqual(
    seen.map((s) => [s.method, s.url, s.header]),
    [
      ['GET', '/hello', 'http_fetch'],
      ['POST', '/post', 'http_fetch'],
      ['GET', '/missing', 'http_fetch'],
    ],
  )
})

test('a host outside allowedHosts (or with none given) is HOST_NOT_ALLOWED and the server sees nothing', async (t) => {
  const { server, port, seen } = await serve()
  t.teardown(() => server.close())
  const other = await load({ allowedHosts: ['api.example.com', '*.example.com'] })
  const denied = await failure(t, other.call('fetch', request(`http://127.0.0.1:${port}/secret`)))
  t.is(denied?.code, 'HOST_NOT_ALLOWED')
  t.regex(denied?.message ?? '', /127\.0\.0\.1/)
  const none = await load()
  t.is(
    (await failure(t, none.call('fetch', request(`http://127.0.0.1:${port}/secret`))))?.code,
    'HOST_NOT_ALLOWED',
  )
  // Another port of an allowed host is another destination when the port is given.
  const pinned = await load({ allowedHosts: [`127.0.0.1:${port + 1 === 65536 ? port - 1 : port + 1}`] })
  t.is(
    (await failure(t, pinned.call('fetch', request(`http://127.0.0.1:${port}/secret`))))?.code,
    'HOST_NOT_ALLOWED',
  )
  t.deepEqual(seen, [])
})

test('every redirect hop is checked: a redirect to a denied host fails, and that host sees nothing', async (t) => {
  const allowed = await serve()
  const forbidden = await serve()
  t.teardown(() => {
    allowed.server.close()
    forbidden.server.close()
  })
  const plugin = await load({ allowedHosts: [`127.0.0.1:${allowed.port}`] })
  const target = `http://127.0.0.1:${forbidden.port}/stolen`
  const error = await failure(
    t,
    plugin.call(
      'fetch',
      request(`http://127.0.0.1:${allowed.port}/redirect?to=${encodeURIComponent(target)}`),
    ),
  )
  t.is(error?.code, 'HOST_NOT_ALLOWED')
  t.regex(error?.message ?? '', /redirect/)
  t.is(allowed.seen.length, 1)
  t.deepEqual(forbidden.seen, [])
  // A redirect within the allowed destination is followed.
  const inside = `http://127.0.0.1:${allowed.port}/final`
  t.is(
    text(
      await plugin.call(
        'fetch',
        request(`http://127.0.0.1:${allowed.port}/redirect?to=${encodeURIComponent(inside)}`),
      ),
    ),
    '200\ntext/x-fixture\nGET /final got ""',
  )
})

test('memory.maxHttpResponseBytes caps the response: RESPONSE_TOO_LARGE', async (t) => {
  const { server, port } = await serve()
  t.teardown(() => server.close())
  const plugin = await load({ allowedHosts: ['127.0.0.1'], memory: { maxHttpResponseBytes: 512 } })
  t.is(
    (await failure(t, plugin.call('fetch', request(`http://127.0.0.1:${port}/big`))))?.code,
    'RESPONSE_TOO_LARGE',
  )
  t.regex(text(await plugin.call('fetch', request(`http://127.0.0.1:${port}/small`))), /^200\n/)
})
