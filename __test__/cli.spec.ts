import { execFile, spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import test from 'ava'
import { startMockOpenAI } from 'modelport/testing'

import { eventually, fixture, plugin, root, tempDir, tempFile } from './helpers'

const cli = join(root, 'dist', 'src', 'cli.js')

/** Runs the CLI without blocking this process (the embedded server must keep answering). */
function modelport(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, ...args],
      { encoding: 'utf8', timeout: 30_000 },
      (error, stdout, stderr) => {
        const status = error ? (typeof error.code === 'number' ? error.code : null) : 0
        resolve({ status, stdout, stderr })
      },
    )
  })
}

const config = (url: string) =>
  tempFile(
    'plugins.toml',
    `
[[providers]]
name = "openai"
path = "${plugin('openai')}"
[providers.config]
base_url = "${url}"
model = "mock-gpt-1"

[[providers]]
name = "bot"
path = "${plugin('scripted')}"
[providers.config]
default_reply = "bot heard {{input}}"
`,
  )

test('list, schema, models, chat and embed, as text and as JSON', async (t) => {
  const mock = await startMockOpenAI()
  t.teardown(() => mock.close())
  const file = config(mock.url)
  const list = await modelport(['list', '--config', file])
  t.is(list.status, 0, list.stderr)
  t.regex(list.stdout, /✓ openai {2}native v0\.1\.0 {2}provider=openai/)
  t.regex(list.stdout, /✓ bot {2}native/)

  const schema = await modelport(['schema', 'openai', '--config', file, '--json'])
  t.is(schema.status, 0, schema.stderr)
  t.truthy(JSON.parse(schema.stdout).properties.base_url)

  t.deepEqual(JSON.parse((await modelport(['models', 'openai', '--config', file, '--json'])).stdout), [
    'mock-gpt-1',
    'mock-embed-1',
  ])
  t.is((await modelport(['chat', 'openai', 'hello cli', '--config', file])).stdout, 'Echo: hello cli\n')
  t.is((await modelport(['chat', 'bot', 'hi', '--config', file])).stdout, 'bot heard hi\n')
  const chat = JSON.parse((await modelport(['chat', 'openai', 'hi', '--config', file, '--json'])).stdout)
  t.is(chat.text, 'Echo: hi')
  t.is(chat.finishReason, 'stop')

  t.regex(
    (await modelport(['embed', 'bot', 'some text', '--config', file])).stdout,
    /^8 dimensions: \[-?\d\.\d{4}, /,
  )
  t.is(
    JSON.parse((await modelport(['embed', 'bot', 'some text', '--config', file, '--json'])).stdout).length,
    8,
  )
})

test('failures exit non-zero with one line naming the code', async (t) => {
  const missing = await modelport(['list', '--config', '/nonexistent/plugins.toml'])
  t.is(missing.status, 1)
  t.regex(missing.stderr, /^modelport: CONFIG_INVALID: cannot read the config file/)
  t.is(missing.stderr.trim().split('\n').length, 1)

  const file = tempFile(
    'plugins.json',
    JSON.stringify({ providers: [{ name: 'bad', path: fixture('abi_old') }] }),
  )
  const chat = await modelport(['chat', 'bad', 'hi', '--config', file])
  t.is(chat.status, 1)
  t.regex(chat.stderr, /^modelport: ABI_MISMATCH: /)
  const list = await modelport(['list', '--config', file])
  t.is(list.status, 1)
  t.regex(list.stdout, /✗ bad {2}ABI_MISMATCH/)

  const usage = await modelport([])
  t.is(usage.status, 2)
  t.regex(usage.stdout, /usage: modelport/)
})

test('chat streams tokens to the terminal as they arrive; --no-stream prints the whole answer', async (t) => {
  // The server holds the answer back after "Echo: one" until those words are on the terminal
  // (or for 30 s, when the CLI waited for the whole answer before printing).
  let shown = (): void => {}
  const firstWordsShown = new Promise<void>((resolve) => (shown = resolve))
  let hold = 'not reached'
  const server = await startMockOpenAI({
    beforeEvent: async (index) => {
      // Events: 0 the role, 1 "Echo:", 2 " one", 3 " two"…
      if (index !== 3) return
      let timer: NodeJS.Timeout | undefined
      hold = await Promise.race([
        firstWordsShown.then(() => 'released when shown'),
        new Promise<string>((resolve) => (timer = setTimeout(() => resolve('timed out'), 30_000))),
      ])
      clearTimeout(timer)
    },
  })
  t.teardown(() => server.close())
  const file = config(server.url)
  const child = spawn(process.execPath, [cli, 'chat', 'openai', 'one two three four', '--config', file])
  let output = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (text: string) => {
    output += text
    if (output.startsWith('Echo: one')) shown()
  })
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve))
  t.is(status, 0)
  t.is(output, 'Echo: one two three four\n')
  t.is(hold, 'released when shown', 'the first words reached the terminal before the rest was sent')
  t.is(
    (await modelport(['chat', 'openai', 'one two', '--no-stream', '--config', file])).stdout,
    'Echo: one two\n',
  )
})

test('speak writes the audio file (format from its extension); transcribe reads it back', async (t) => {
  const mock = await startMockOpenAI()
  t.teardown(() => mock.close())
  const file = config(mock.url)
  const out = join(tempDir(), 'hello.wav')
  const spoken = await modelport([
    'speak',
    'openai',
    'hello from the cli',
    '-o',
    out,
    '--voice',
    'nova',
    '--config',
    file,
  ])
  t.is(spoken.status, 0, spoken.stderr)
  t.regex(spoken.stdout, /wrote .*hello\.wav \(18 bytes, audio\/wav\)/)
  t.is(readFileSync(out, 'utf8'), 'hello from the cli')
  t.like(mock.requests.at(-1)?.body, { voice: 'nova', response_format: 'wav', input: 'hello from the cli' })

  const heard = await modelport(['transcribe', 'openai', out, '--language', 'en', '--config', file, '--json'])
  t.is(heard.status, 0, heard.stderr)
  t.deepEqual(JSON.parse(heard.stdout), { text: 'hello from the cli' })
  t.like(mock.requests.at(-1)?.body, { language: 'en', file: { filename: 'audio.wav', type: 'audio/wav' } })

  const unknown = await modelport(['transcribe', 'openai', join(tempDir(), 'talk.xyz'), '--config', file])
  t.is(unknown.status, 1)
  t.regex(unknown.stderr, /modelport: INVALID_REQUEST: .*--mime-type/)
  const unsupported = await modelport([
    'speak',
    'bot',
    'hi',
    '-o',
    join(tempDir(), 'x.mp3'),
    '--config',
    file,
  ])
  t.is(unsupported.status, 1)
  t.regex(unsupported.stderr, /modelport: UNSUPPORTED: /)
})

test('plugins and health: every plugin with its kind, version, SDK range and health; exit 1 when one is unhealthy', async (t) => {
  const server = await startMockOpenAI()
  t.teardown(() => server.close())
  const dir = tempDir()
  const module = join(dir, 'notes.mjs')
  writeFileSync(
    module,
    `export default {
  manifest: { name: 'notes', type: 'vector-backend', version: '2.1.0', sdkVersion: { minVersion: 1, maxVersion: 1 } },
  createPlugin: () => ({
    name: 'notes', sdkVersion: { minVersion: 1 },
    async init() {}, async shutdown() {},
    async healthCheck() { return { healthy: process.env.NOTES_DOWN !== '1', message: 'store open' } },
    async upsert() {}, async query() { return [] }, async deleteByIds() {}, async wipeRepo() {},
    async info() { return { backend: 'm', dims: 1, embedderId: 'x', location: 'local', supportsFilters: false } },
  }),
}
`,
  )
  const file = join(dir, 'plugins.toml')
  writeFileSync(
    file,
    `[[providers]]
name = "openai"
path = "${plugin('openai')}"
[providers.config]
base_url = "${server.url}"
model = "mock-gpt-1"

[[plugins]]
name = "notes"
kind = "vector-backend"
path = "notes.mjs"
`,
  )
  const listed = await modelport(['plugins', '--config', file])
  t.is(listed.status, 0, listed.stderr)
  t.regex(
    listed.stdout,
    /^✓ openai {2}native provider v0\.1\.0 {2}healthy: the model list answered \(2 models\)$/m,
  )
  t.regex(listed.stdout, /^✓ notes {2}ts vector-backend v2\.1\.0 {2}sdk 1\.\.1 {2}healthy: store open$/m)
  const json = JSON.parse((await modelport(['plugins', '--json', '--config', file])).stdout) as Array<{
    name: string
  }>
  t.deepEqual(
    json.map((p) => p.name),
    ['openai', 'notes'],
  )
  const one = await modelport(['health', 'notes', '--config', file])
  t.is(one.status, 0)
  t.is(one.stdout.trim(), '✓ notes  store open')
  await server.close()
  const down = await modelport(['health', '--config', file])
  t.is(down.status, 1)
  t.regex(down.stdout, /^✗ openai /m)
  t.regex(down.stdout, /^✓ notes {2}store open$/m)
})

test('exec runs a command through the sandboxed executor, with its output and exit status', async (t) => {
  const dir = tempDir()
  const run = (args: string[]) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [cli, ...args],
        { encoding: 'utf8', cwd: dir, timeout: 30_000 },
        (error, stdout, stderr) =>
          resolve({
            status: error ? (typeof error.code === 'number' ? error.code : null) : 0,
            stdout,
            stderr,
          }),
      )
    })
  const ok = await run(['exec', '--', 'sh', '-c', 'echo out; echo err >&2; echo file > made.txt; exit 3'])
  t.is(ok.status, 3)
  t.is(ok.stdout, 'out\n')
  t.is(ok.stderr, 'err\n')
  t.is(readFileSync(join(dir, 'made.txt'), 'utf8'), 'file\n', 'it ran in the working directory')
  const killed = await run(['exec', '--json', '--timeout', '200', '--', 'sleep', '60'])
  t.is(killed.status, 137)
  t.like(JSON.parse(killed.stdout), { exitCode: 137, signal: 'SIGKILL' })
  const bad = await run(['exec', '--timeout', 'soon', '--', 'true'])
  t.is(bad.status, 1)
  t.regex(bad.stderr, /^modelport: INVALID_REQUEST: --timeout/)
})

test('vectors upsert and query: texts embedded by the config embedder, kept by the config store across runs', async (t) => {
  const dir = tempDir()
  const file = join(dir, 'plugins.toml')
  writeFileSync(
    file,
    `[[plugins]]
name = "memory"
kind = "vector-backend"
path = "modelport:sqlite-vectors"
config = { path = "memory.db", dims = 128 }

[[plugins]]
name = "local"
kind = "embedder"
path = "modelport:local-embedder"
config = { dims = 128 }
`,
  )
  // The store's relative path is the process's folder: each run is a new process in `dir`.
  const inDir = (args: string[]) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [cli, 'vectors', ...args, '--config', file],
        { cwd: dir, encoding: 'utf8', timeout: 30_000 },
        (error, stdout, stderr) =>
          resolve({
            status: error ? (typeof error.code === 'number' ? error.code : null) : 0,
            stdout,
            stderr,
          }),
      )
    })
  for (const [id, text, meta] of [
    ['cats', 'cats purr and chase mice', 'kind=animal,legs=4'],
    ['bikes', 'bicycles have two wheels and pedals', 'kind=vehicle,legs=0'],
    ['dogs', 'dogs bark and chase cats', 'kind=animal,legs=4'],
  ] as const) {
    const stored = await inDir(['upsert', 'memory', 'notes', id, text, '--meta', meta])
    t.is(stored.status, 0, stored.stderr)
    t.is(stored.stdout.trim(), `stored ${id} in notes (128 dimensions)`)
  }
  const found = await inDir(['query', 'memory', 'notes', 'which animals chase mice', '--top', '2', '--json'])
  t.is(found.status, 0, found.stderr)
  const matches = JSON.parse(found.stdout) as Array<{ id: string; metadata: Record<string, unknown> }>
  t.is(matches.length, 2)
  t.is(matches[0]!.id, 'cats')
  const filtered = await inDir(['query', 'memory', 'notes', 'wheels', '--filter', 'legs=0'])
  t.regex(filtered.stdout, /^\d\.\d{4} {2}bikes {2}bicycles have two wheels and pedals$/m)
  t.notRegex(filtered.stdout, /cats|dogs/)
  const wrong = await inDir(['query', 'local', 'notes', 'x'])
  t.is(wrong.status, 1)
  t.regex(wrong.stderr, /PLUGIN_NOT_FOUND: plugin 'local': its type is embedder, not vector-backend/)
})

test('modelport serve: an OpenAI-compatible gateway that finishes requests in flight on SIGTERM, then exits 0', async (t) => {
  const mock = await startMockOpenAI({ latencyMs: 1500 })
  t.teardown(() => mock.close())
  const child = spawn(
    process.execPath,
    [cli, '--config', config(mock.url), 'serve', '--port', '0', '--max-body-bytes', '2048'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  t.teardown(() => child.kill('SIGKILL'))
  let stdout = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  t.true(await eventually(() => /serving (\S+)\n/.test(stdout)), stdout)
  const url = /serving (\S+)\n/.exec(stdout)![1]!
  const models = (await (await fetch(`${url}/models`)).json()) as { data: Array<{ id: string }> }
  t.true(models.data.some((m) => m.id === 'openai:mock-gpt-1'))
  const tooBig = await fetch(`${url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'openai', messages: [{ role: 'user', content: 'x'.repeat(4096) }] }),
  })
  t.is(tooBig.status, 413)
  // A chat the upstream answers only after 1.5 s; SIGTERM arrives while it is in flight.
  const pending = fetch(`${url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'openai', messages: [{ role: 'user', content: 'drain me' }] }),
  })
  t.true(await eventually(() => mock.requests.some((r) => r.path.endsWith('/chat/completions'))))
  child.kill('SIGTERM')
  const answer = await pending
  t.is(answer.status, 200)
  t.is(
    ((await answer.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message
      .content,
    'Echo: drain me',
  )
  t.is(await exited, 0)
  t.regex(stdout, /SIGTERM: finishing requests in flight/)

  const bad = await modelport([
    'serve',
    '--config',
    config(mock.url),
    '--port',
    '0',
    '--max-concurrent-requests',
    '0',
  ])
  t.is(bad.status, 1)
  t.regex(bad.stderr, /modelport: INVALID_REQUEST: --max-concurrent-requests 0: not a positive whole number/)
})
