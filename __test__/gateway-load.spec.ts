// `modelport serve` under load, each party in a process of its own (loopback only): 1,000 streaming
// chats in flight at once through one gateway, and an upstream killed (SIGKILL) in the middle of
// its streams. The official `openai` client is the client.
import { type ChildProcessByStdio, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Readable } from 'node:stream'

import test, { type ExecutionContext } from 'ava'
import OpenAI from 'openai'

import { EMULATOR_MEMORY_MIB, eventually, plugin, root, tempFile } from './helpers'

const cli = join(root, 'dist', 'src', 'cli.js')
/** The gateway's peak resident set while serving 1,000 streams (measured: 160–164 MiB natively,
 * 349 MiB under qemu-user; README), plus what an emulator adds. */
const PEAK_RSS_BOUND_MIB = 320 + EMULATOR_MEMORY_MIB

interface Started {
  child: ChildProcessByStdio<null, Readable, Readable>
  /** Every stdout line so far. */
  lines: string[]
}

function start(t: ExecutionContext, args: string[]): Started {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => child.kill('SIGKILL'))
  const started: Started = { child, lines: [] }
  let pending = ''
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    pending += text
    const lines = pending.split('\n')
    pending = lines.pop()!
    started.lines.push(...lines)
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text))
  child.once('exit', (code, signal) => t.log(`${args[0]} exited (${code ?? signal}) ${stderr.slice(-2000)}`))
  return started
}

async function firstLine(t: ExecutionContext, started: Started, pattern: RegExp): Promise<string> {
  t.true(await eventually(() => started.lines.some((line) => pattern.test(line))), started.lines.join('\n'))
  return pattern.exec(started.lines.find((line) => pattern.test(line))!)![1]!
}

/** The upstream (children/upstream.mjs) in its own process; resolves to its base URL. */
async function upstream(t: ExecutionContext, mode: string[]) {
  const started = start(t, [join(__dirname, 'children', 'upstream.mjs'), ...mode])
  return { ...started, url: await firstLine(t, started, /^(http:\S+)$/) }
}

/** `modelport serve` over the shipped openai plugin pointed at `url`; resolves to its base URL. */
async function gateway(t: ExecutionContext, url: string, args: string[] = []) {
  const config = tempFile(
    'plugins.toml',
    `
[[providers]]
name = "openai"
path = "${plugin('openai')}"
max_retries = 0
[providers.config]
base_url = "${url}"
model = "mock-gpt-1"
`,
  )
  const started = start(t, [cli, '--config', config, 'serve', '--port', '0', ...args])
  return { ...started, url: await firstLine(t, started, /serving (\S+)$/) }
}

/** The peak resident set of a process, in MiB (Linux's VmHWM). */
function peakRssMiB(pid: number): number {
  const kib = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
  return Number(kib) / 1024
}

test('1,000 streaming chats at once through modelport serve: every one completes, with usage, none fails', async (t) => {
  const streams = 1000
  // The upstream holds every answer after its first event until all 1,000 requests have reached
  // it: the test can only pass if the gateway carries all of them at the same time.
  const source = await upstream(t, ['barrier', String(streams)])
  const served = await gateway(t, source.url, ['--max-concurrent-requests', String(streams)])
  const client = new OpenAI({ baseURL: served.url, apiKey: 'none', maxRetries: 0, timeout: 120_000 })
  const results = await Promise.allSettled(
    Array.from({ length: streams }, async (_, i) => {
      const stream = await client.chat.completions.create({
        model: 'openai',
        messages: [{ role: 'user', content: `chat ${i}` }],
        stream: true,
        stream_options: { include_usage: true },
      })
      let text = ''
      let usage: OpenAI.CompletionUsage | null | undefined
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? ''
        if (chunk.usage) usage = chunk.usage
      }
      return { text, usage }
    }),
  )
  const failed = results.filter((r) => r.status === 'rejected')
  t.deepEqual(
    failed.slice(0, 3).map((r) => String((r as PromiseRejectedResult).reason)),
    [],
    `${failed.length} of ${streams} streams failed`,
  )
  for (const result of results) {
    const { text, usage } = (
      result as PromiseFulfilledResult<{ text: string; usage?: OpenAI.CompletionUsage | null }>
    ).value
    t.is(text, 'one two three four')
    t.true((usage?.completion_tokens ?? 0) > 0)
  }
  t.true(source.lines.includes(`requests ${streams}`))
  const peak = peakRssMiB(served.child.pid!)
  t.log(`gateway peak RSS with ${streams} streams: ${peak.toFixed(1)} MiB`)
  t.true(peak < PEAK_RSS_BOUND_MIB, `peak RSS ${peak.toFixed(1)} MiB`)
})

test('the upstream killed mid-stream: every client gets an error event, none hangs, and the gateway answers on', async (t) => {
  const streams = 100
  const source = await upstream(t, ['hold'])
  const served = await gateway(t, source.url)
  const client = new OpenAI({ baseURL: served.url, apiKey: 'none', maxRetries: 0, timeout: 120_000 })
  let started = 0
  const outcomes = Array.from({ length: streams }, async (_, i) => {
    const stream = await client.chat.completions.create({
      model: 'openai',
      messages: [{ role: 'user', content: `chat ${i}` }],
      stream: true,
    })
    let text = ''
    try {
      for await (const chunk of stream) {
        const piece = chunk.choices[0]?.delta.content ?? ''
        if (piece && !text) started++
        text += piece
      }
    } catch (error) {
      return { text, error }
    }
    return { text, error: undefined }
  })
  // Every stream has its first words, and the upstream holds the rest: now it dies.
  t.true(await eventually(() => started === streams), `${started} of ${streams} streams started`)
  source.child.kill('SIGKILL')
  const ended = await Promise.all(outcomes)
  for (const { text, error } of ended) {
    t.is(text, 'one')
    t.true(error instanceof OpenAI.APIError, String(error))
    const body = (error as InstanceType<typeof OpenAI.APIError>).error as { code?: string } | undefined
    t.is(body?.code, 'transport')
  }
  // The gateway goes on: with its upstream gone a chat is a 502 at once, and the metrics say why.
  const refused = await t.throwsAsync(
    client.chat.completions.create({ model: 'openai', messages: [{ role: 'user', content: 'anyone?' }] }),
  )
  t.true(refused instanceof OpenAI.APIError && refused.status === 502, String(refused))
  const metrics = await (await fetch(`${served.url.replace(/\/v1$/, '')}/metrics`)).text()
  t.regex(metrics, /modelport_gateway_errors_total\{route="POST \/chat\/completions",code="transport"\} 101/)
})
