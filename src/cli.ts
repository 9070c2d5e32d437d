#!/usr/bin/env node
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { extname, resolve } from 'node:path'
import { parseArgs } from 'node:util'

import { ModelportError } from './errors'
import { serve } from './gateway'
import { PluginRegistry } from './registry'
import { sandboxedToolExecutor } from './sdk/tool-executor'
import type {
  EmbedderPlugin,
  HealthCheckResult,
  PluginType,
  ToolExecutorPlugin,
  VectorMemoryBackendPlugin,
} from './sdk/types'
import type { LoadReport, Message } from './types'

const USAGE = `usage: modelport [--config FILE] [--json] <command> [args]

commands:
  list                      load every plugin and show what loaded
  plugins                   every plugin with its kind, version, SDK range and health
  health [name]             health of one plugin or of all (exit 1 if any is unhealthy)
  exec -- CMD [ARGS…]       run a command through a tool executor (the sandboxed one by default),
                            allowing just CMD; exits with its status
                            [--executor NAME] [--cwd DIR] [--timeout MS] [--env A,B]
  vectors upsert STORE REPO ID "text"
                            embed the text and store it under ID (metadata: --meta k=v,k2=v2)
  vectors query STORE REPO "text"
                            the closest items      [--top K] [--filter k=v,…]
                            (STORE: a vector-backend plugin of the config; the embedder:
                            --embedder NAME, else the config's only embedder plugin)
  schema <name>             the JSON Schema of a provider's config
  models <name>             the models a provider offers
  chat <name> "prompt"      one chat turn, streamed as it arrives   [--model M] [--system S] [--no-stream]
  embed <name> "text"       an embedding    [--model M]
  transcribe <name> FILE    speech to text  [--language L] [--prompt P] [--mime-type T] [--model M]
  speak <name> "text"       text to speech, written to -o FILE (format from its extension)
                            [-o out.mp3] [--voice V] [--format F] [--model M]
  serve                     an OpenAI-compatible gateway over every provider (modelport/gateway)
                            [--host 127.0.0.1] [--port 8080] [--max-concurrent-requests 256]
                            [--max-body-bytes 10485760]; API keys: MODELPORT_GATEWAY_API_KEYS
                            (comma-separated; without keys only a loopback host); SIGTERM or
                            SIGINT stops accepting, lets requests in flight finish, then exits

options:
  --config FILE   config file (.toml, .json, .yaml, .yml); default ./plugins.toml
  --json          print JSON instead of text
  --help          this text`

/** Audio MIME types by file extension, for `transcribe`. */
const AUDIO_TYPES: Record<string, string> = {
  mp3: 'audio/mpeg',
  mpga: 'audio/mpeg',
  mpeg: 'audio/mpeg',
  wav: 'audio/wav',
  m4a: 'audio/mp4',
  mp4: 'audio/mp4',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  opus: 'audio/opus',
  webm: 'audio/webm',
  flac: 'audio/flac',
  aac: 'audio/aac',
}

interface Options {
  config: string
  json: boolean
  model?: string
  system?: string
}

function print(options: Options, value: unknown, text: () => string): void {
  process.stdout.write(options.json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`)
}

function need(positionals: string[], count: number, what: string): string[] {
  if (positionals.length < count) {
    throw new ModelportError({ code: 'INVALID_REQUEST', message: `missing ${what}\n\n${USAGE}` })
  }
  return positionals
}

/** A plugin's health: an SDK plugin's own check, a provider's (built with its config) otherwise. */
async function healthOf(registry: PluginRegistry, name: string): Promise<HealthCheckResult> {
  if (registry.plugins().some((p) => p.name === name)) return (await registry.health(name))[name]!
  try {
    return await (await registry.builder(name).build()).healthCheck()
  } catch (error) {
    const code = error instanceof ModelportError ? error.code : undefined
    return {
      healthy: false,
      message: error instanceof Error ? error.message : String(error),
      ...(code && { details: { code } }),
    }
  }
}

/** Each loaded plugin's description for `plugins`, with its health. */
async function describePlugins(registry: PluginRegistry, reports: LoadReport[]) {
  const infos = registry.list()
  const sdk = registry.plugins()
  return Promise.all(
    reports.map(async (report) => {
      if (!report.ok) return { name: report.name, ok: false, error: report.error }
      const info = infos.find((i) => i.name === report.name)
      const manifest = sdk.find((p) => p.name === report.name)?.manifest
      const range = manifest?.sdkVersion
      return {
        name: report.name,
        ok: true,
        kind: report.kind,
        type: manifest?.type ?? 'provider',
        version: manifest?.version ?? info?.version,
        sdkVersion: range ? `${range.minVersion}..${range.maxVersion ?? ''}` : undefined,
        health: await healthOf(registry, report.name),
      }
    }),
  )
}

/** Loads the config's plugins; the first failure among `names` is thrown. */
async function loadOrThrow(registry: PluginRegistry, names: string[]): Promise<void> {
  const failed = (await registry.loadAll()).find((r) => names.includes(r.name) && !r.ok)
  if (failed?.error) throw failed.error
}

/** The registered SDK plugin `name`, which must be of `type`. */
function pluginOfType<T>(registry: PluginRegistry, name: string, type: PluginType): T {
  const info = registry.plugins().find((p) => p.name === name)
  if (info?.manifest.type !== type) {
    throw new ModelportError({
      code: 'PLUGIN_NOT_FOUND',
      plugin: name,
      message: info
        ? `its type is ${info.manifest.type}, not ${type}`
        : `the config has no [[plugins]] entry named '${name}' (a ${type})`,
    })
  }
  return registry.plugin(name) as T
}

/** The one registered plugin of `type` (an error when there are none or several). */
function onlyOf(registry: PluginRegistry, type: PluginType): string {
  const names = registry
    .plugins()
    .filter((p) => p.manifest.type === type)
    .map((p) => p.name)
  if (names.length !== 1) {
    throw new ModelportError({
      code: 'INVALID_REQUEST',
      message: `name the ${type} with --${type}: the config has ${names.length === 0 ? 'none' : names.join(', ')}`,
    })
  }
  return names[0]!
}

/** `k=v,k2=v2` as metadata: numbers and true/false become numbers and booleans. */
function pairs(text: string | undefined, option: string): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {}
  for (const pair of (text ?? '').split(',').filter(Boolean)) {
    const at = pair.indexOf('=')
    if (at <= 0) {
      throw new ModelportError({
        code: 'INVALID_REQUEST',
        message: `${option} takes k=v pairs, got '${pair}'`,
      })
    }
    const value = pair.slice(at + 1)
    out[pair.slice(0, at)] =
      value === 'true'
        ? true
        : value === 'false'
          ? false
          : value !== '' && Number.isFinite(Number(value))
            ? Number(value)
            : value
  }
  return out
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c', default: 'plugins.toml' },
      json: { type: 'boolean', default: false },
      model: { type: 'string', short: 'm' },
      system: { type: 'string', short: 's' },
      language: { type: 'string' },
      prompt: { type: 'string' },
      'mime-type': { type: 'string' },
      voice: { type: 'string' },
      format: { type: 'string' },
      output: { type: 'string', short: 'o' },
      'no-stream': { type: 'boolean', default: false },
      executor: { type: 'string' },
      cwd: { type: 'string' },
      timeout: { type: 'string' },
      env: { type: 'string' },
      embedder: { type: 'string' },
      meta: { type: 'string' },
      filter: { type: 'string' },
      top: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'max-concurrent-requests': { type: 'string' },
      'max-body-bytes': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  const [command, ...rest] = positionals
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`)
    return values.help ? 0 : 2
  }
  const options: Options = {
    config: values.config,
    json: values.json,
    model: values.model,
    system: values.system,
  }
  // `exec` needs no config file: without one it uses the sandboxed executor modelport ships.
  const registry =
    command === 'exec' && !values.executor && !existsSync(options.config)
      ? await PluginRegistry.fromConfig({ providers: [] })
      : await PluginRegistry.fromFile(options.config)
  try {
    switch (command) {
      case 'list': {
        const reports = await registry.loadAll()
        const infos = registry.list()
        print(options, { reports, plugins: infos }, () =>
          reports
            .map((r) => {
              const info = infos.find((i) => i.name === r.name)
              if (!r.ok) return `✗ ${r.name}  ${r.error?.code}: ${r.error?.message}`
              if (!info) return `✓ ${r.name}  ${r.kind}  ${r.path}`
              const version = info.version ? ` v${info.version}` : ''
              return `✓ ${r.name}  ${r.kind}${version}  provider=${info.provider}  ${r.path}`
            })
            .join('\n'),
        )
        return reports.every((r) => r.ok) ? 0 : 1
      }
      case 'plugins': {
        const plugins = await describePlugins(registry, await registry.loadAll())
        print(options, plugins, () =>
          plugins
            .map((p) => {
              if (!p.ok) return `✗ ${p.name}  ${p.error?.code}: ${p.error?.message}`
              const version = p.version ? ` v${p.version}` : ''
              const sdk = p.sdkVersion ? `  sdk ${p.sdkVersion}` : ''
              const health = p.health!.healthy ? 'healthy' : 'UNHEALTHY'
              return `✓ ${p.name}  ${p.kind} ${p.type}${version}${sdk}  ${health}: ${p.health!.message ?? ''}`
            })
            .join('\n'),
        )
        return plugins.every((p) => p.ok && p.health!.healthy) ? 0 : 1
      }
      case 'health': {
        const reports = await registry.loadAll()
        const names = rest.length > 0 ? rest : reports.filter((r) => r.ok).map((r) => r.name)
        const failed = reports.find((r) => names.includes(r.name) && !r.ok)
        if (failed?.error) throw failed.error
        const results = Object.fromEntries(
          await Promise.all(names.map(async (name) => [name, await healthOf(registry, name)] as const)),
        )
        print(options, results, () =>
          Object.entries(results)
            .map(([name, h]) => `${h.healthy ? '✓' : '✗'} ${name}  ${h.message ?? ''}`)
            .join('\n'),
        )
        return Object.values(results).every((h) => h.healthy) ? 0 : 1
      }
      case 'exec': {
        const [program, ...args] = need(rest, 1, 'the command to run') as [string, ...string[]]
        if (values.executor) {
          const report = (await registry.loadAll()).find((r) => r.name === values.executor)
          if (report?.error) throw report.error
        }
        const executor = values.executor
          ? registry.plugin<ToolExecutorPlugin>(values.executor)
          : await registry.register(sandboxedToolExecutor)
        const timeoutMs = values.timeout === undefined ? 60_000 : Number(values.timeout)
        if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
          throw new ModelportError({
            code: 'INVALID_REQUEST',
            message: `--timeout must be a number of ms, got ${values.timeout}`,
          })
        }
        const policy = {
          enabled: true,
          allowedCommands: [program],
          workingDirectory: resolve(values.cwd ?? '.'),
          allowedEnv: values.env ? values.env.split(',') : [],
          timeoutMs,
          maxOutputBytes: 1 << 20,
        }
        const result = await executor.execute({ command: program, args }, policy, {
          runId: 'cli',
          logger: { log() {} },
        })
        if (options.json) print(options, result, () => '')
        else {
          process.stdout.write(await readFile(result.stdoutPath))
          process.stderr.write(await readFile(result.stderrPath))
          if (result.truncated) process.stderr.write('modelport: output truncated at 1 MiB\n')
          if (result.signal) process.stderr.write(`modelport: ended by ${result.signal}\n`)
        }
        return result.exitCode
      }
      case 'vectors': {
        const [action, store, repo, ...words] = need(rest, 4, 'vectors upsert|query STORE REPO …') as [
          string,
          string,
          string,
          ...string[],
        ]
        const ctx = { runId: 'cli', logger: { log() {} } }
        await loadOrThrow(registry, [store, ...(values.embedder ? [values.embedder] : [])])
        const backend = pluginOfType<VectorMemoryBackendPlugin>(registry, store, 'vector-backend')
        const embedder = pluginOfType<EmbedderPlugin>(
          registry,
          values.embedder ?? onlyOf(registry, 'embedder'),
          'embedder',
        )
        if (action === 'upsert') {
          const [id, text] = need(words, 2, 'the id and the text') as [string, string]
          const [vector] = await embedder.embedTexts([text], ctx)
          const metadata = pairs(values.meta, '--meta')
          await backend.upsert(repo, [{ id, vector: vector!, metadata, content: text }], ctx)
          print(
            options,
            { repo, id, dims: vector!.length },
            () => `stored ${id} in ${repo} (${vector!.length} dimensions)`,
          )
          return 0
        }
        if (action === 'query') {
          const [text] = need(words, 1, 'the text to look for') as [string]
          const topK = values.top === undefined ? 5 : Number(values.top)
          const [vector] = await embedder.embedTexts([text], ctx)
          const filter = values.filter === undefined ? undefined : pairs(values.filter, '--filter')
          const found = await backend.query(repo, Float32Array.from(vector!), topK, ctx, filter)
          print(options, found, () =>
            found.map((m) => `${m.score.toFixed(4)}  ${m.id}${m.content ? `  ${m.content}` : ''}`).join('\n'),
          )
          return 0
        }
        throw new ModelportError({
          code: 'INVALID_REQUEST',
          message: `vectors takes upsert or query, not '${action}'\n\n${USAGE}`,
        })
      }
      case 'schema': {
        const [name] = need(rest, 1, 'the provider name') as [string]
        const report = (await registry.loadAll()).find((r) => r.name === name)
        if (report?.error) throw report.error
        const schema = registry.configSchema(name)
        print(options, schema, () => JSON.stringify(schema, null, 2))
        return 0
      }
      case 'models': {
        const [name] = need(rest, 1, 'the provider name') as [string]
        const models = await registry.listModels(
          name,
          options.model ? { config: { model: options.model } } : {},
        )
        print(options, models, () => models.join('\n'))
        return 0
      }
      case 'chat': {
        const [name, prompt] = need(rest, 2, 'the provider name and the prompt') as [string, string]
        const builder = registry.builder(name)
        if (options.model) builder.model(options.model)
        const provider = await builder.build()
        const messages: Message[] = []
        if (options.system) messages.push({ role: 'system', content: options.system })
        messages.push({ role: 'user', content: prompt })
        if (options.json || values['no-stream']) {
          const response = await provider.chat(messages)
          print(options, response, () => {
            const calls = response.toolCalls.map((c) => `[tool call] ${c.name}(${c.arguments})`)
            return [response.text ?? '', ...calls].filter(Boolean).join('\n')
          })
          return 0
        }
        // Ctrl-C stops the stream cleanly (the HTTP stream is closed) instead of killing mid-write.
        const interrupt = new AbortController()
        const onSigint = () => interrupt.abort()
        process.once('SIGINT', onSigint)
        try {
          let endsWithNewline = true
          for await (const event of provider.chatStream(messages, { signal: interrupt.signal })) {
            if (event.type === 'text') {
              process.stdout.write(event.text)
              endsWithNewline = event.text.endsWith('\n')
            } else if (event.type === 'toolUseComplete') {
              const call = event.toolCall
              process.stdout.write(
                `${endsWithNewline ? '' : '\n'}[tool call] ${call.name}(${call.arguments})\n`,
              )
              endsWithNewline = true
            }
          }
          if (!endsWithNewline) process.stdout.write('\n')
        } finally {
          process.off('SIGINT', onSigint)
        }
        return 0
      }
      case 'embed': {
        const [name, text] = need(rest, 2, 'the provider name and the text') as [string, string]
        const builder = registry.builder(name)
        if (options.model) builder.model(options.model)
        const [vector] = await (await builder.build()).embed([text])
        const values = Array.from(vector ?? [])
        print(options, values, () => {
          const head = values
            .slice(0, 8)
            .map((v) => v.toFixed(4))
            .join(', ')
          return `${values.length} dimensions: [${head}${values.length > 8 ? ', …' : ''}]`
        })
        return 0
      }
      case 'transcribe': {
        const [name, file] = need(rest, 2, 'the provider name and the audio file') as [string, string]
        const mimeType = values['mime-type'] ?? AUDIO_TYPES[extname(file).slice(1).toLowerCase()]
        if (!mimeType) {
          throw new ModelportError({
            code: 'INVALID_REQUEST',
            message: `cannot tell the audio type of ${file} from its extension: give --mime-type`,
          })
        }
        const audio = new Uint8Array(await readFile(file))
        const transcript = await (
          await registry.builder(name).build()
        ).transcribe(audio, {
          mimeType,
          language: values.language,
          prompt: values.prompt,
          model: options.model,
        })
        print(options, transcript, () => transcript.text)
        return 0
      }
      case 'speak': {
        const [name, text] = need(rest, 2, 'the provider name and the text') as [string, string]
        const output = values.output ?? 'speech.mp3'
        const format = values.format ?? (extname(output).slice(1).toLowerCase() || 'mp3')
        const speech = await (
          await registry.builder(name).build()
        ).speech(text, {
          voice: values.voice,
          format,
          model: options.model,
        })
        await writeFile(output, speech.audio)
        const summary = { file: output, bytes: speech.audio.length, mimeType: speech.mimeType }
        print(options, summary, () => `wrote ${output} (${speech.audio.length} bytes, ${speech.mimeType})`)
        return 0
      }
      case 'serve': {
        const port = values.port === undefined ? 8080 : Number(values.port)
        if (!Number.isInteger(port) || port < 0 || port > 65535)
          throw new ModelportError({
            code: 'INVALID_REQUEST',
            message: `--port ${values.port}: not a port number`,
          })
        const stop = new Promise<string>((resolve) => {
          process.once('SIGTERM', () => resolve('SIGTERM'))
          process.once('SIGINT', () => resolve('SIGINT'))
        })
        const limit = (flag: 'max-concurrent-requests' | 'max-body-bytes') => {
          const text = values[flag]
          if (text === undefined) return undefined
          const value = Number(text)
          if (!Number.isSafeInteger(value) || value < 1)
            throw new ModelportError({
              code: 'INVALID_REQUEST',
              message: `--${flag} ${text}: not a positive whole number`,
            })
          return value
        }
        const maxConcurrentRequests = limit('max-concurrent-requests')
        const maxBodyBytes = limit('max-body-bytes')
        const gateway = await serve({
          registry,
          host: values.host ?? '127.0.0.1',
          port,
          ...(maxConcurrentRequests === undefined ? {} : { maxConcurrentRequests }),
          ...(maxBodyBytes === undefined ? {} : { maxBodyBytes }),
        })
        process.stdout.write(`modelport: serving ${gateway.url}/v1\n`)
        const signal = await stop
        process.stdout.write(`modelport: ${signal}: finishing requests in flight\n`)
        await gateway.close()
        return 0
      }
      default:
        throw new ModelportError({
          code: 'INVALID_REQUEST',
          message: `unknown command '${command}'\n\n${USAGE}`,
        })
    }
  } finally {
    await registry.close()
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    if (error instanceof ModelportError) {
      process.stderr.write(`modelport: ${error.code}: ${error.message}\n`)
    } else {
      process.stderr.write(`modelport: ${error instanceof Error ? error.message : String(error)}\n`)
    }
    process.exitCode = 1
  },
)
