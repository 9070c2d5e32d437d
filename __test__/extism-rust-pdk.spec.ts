// A plugin built with Extism's Rust PDK (`extism-pdk` 1.4, wasm/rust/pdk_fixture, built by
// scripts/compat-fixtures.mjs): its `#[host_fn]` imports and `http::request` against modelport's
// host, as a Rust plugin author writes them. The Rust PDK passes every host function value
// through plugin memory (an i64 is 8 little-endian bytes at an offset).
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'

import test from 'ava'
import { type CallContext, ExtismPlugin } from 'modelport'

import { failure, root, tempDir } from './helpers'

const fixture = join(root, 'build', 'fixtures', 'pdk_fixture.wasm')
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8')

const i64 = (value: bigint) => {
  const bytes = new Uint8Array(8)
  new DataView(bytes.buffer).setBigInt64(0, value, true)
  return bytes
}

const functions = {
  'extism:host/user': {
    transform: (ctx: CallContext, offset: bigint) => ctx.store(`${ctx.read(offset)!.text().toUpperCase()}!`),
    add_i64: (ctx: CallContext, a: bigint, b: bigint) => {
      ctx.setVariable('from_host', `set during ${String(ctx.hostContext())}`)
      return ctx.store(i64(ctx.read(a)!.getBigInt64(0, true) + ctx.read(b)!.getBigInt64(0, true)))
    },
  },
}

test('Rust-PDK host functions: strings and numbers through memory, vars, hostContext, sync and async', async (t) => {
  const plugin = await ExtismPlugin.load(fixture, { cacheDir: tempDir(), functions })
  t.is(text(plugin.callSync('transform_input', 'from rust')), 'FROM RUST!')
  t.is(text(await plugin.call('transform_input', 'async')), 'ASYNC!')
  t.is(
    text(await plugin.call('add_and_var', '', { hostContext: 'the async call' })),
    '42 set during the async call',
  )
  t.is(
    text(plugin.callSync('add_and_var', '', { hostContext: 'the sync call' })),
    '42 set during the sync call',
  )
  // Its imports are checked against what is given, like any module's.
  const missing = await failure(t, ExtismPlugin.load(fixture, { cacheDir: tempDir() }))
  t.is(missing?.code, 'PLUGIN_LOAD_FAILED')
  t.regex(missing?.message ?? '', /extism:host\/user::(transform|add_i64)/)
})

test("Rust-PDK http::request goes through modelport's engine: allowed host answered, denied host never reached", async (t) => {
  const seen: string[] = []
  const server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => (body += String(chunk)))
    request.on('end', () => {
      seen.push(`${request.method} ${request.url} ${String(request.headers['x-plugin'])}`)
      response.end(`got ${body}`)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => server.close())
  const port = (server.address() as AddressInfo).port
  const plugin = await ExtismPlugin.load(fixture, {
    cacheDir: tempDir(),
    functions,
    allowedHosts: ['127.0.0.1'],
  })
  const fetch = (url: string) =>
    plugin.call('fetch', JSON.stringify({ url, method: 'POST', body: 'from rust' }))
  t.is(text(await fetch(`http://127.0.0.1:${port}/rust`)), '200 got from rust')
  const denied = await failure(t, fetch(`http://localhost:${port}/rust`))
  t.is(denied?.code, 'HOST_NOT_ALLOWED')
  t.deepEqual(seen, ['POST /rust rust-pdk'])
})
