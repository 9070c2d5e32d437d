// The tool executor modelport ships (seed 004's `ToolExecutorPlugin`): runs allow-listed commands
// in the policy's folder with a scrubbed environment, a timeout, CPU and memory limits (prlimit),
// output capped into files — inside a bubblewrap sandbox (read-only system, no network, only the
// working folder writable) where the machine has `bwrap`, with rlimits alone otherwise.
import { spawn, spawnSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, realpathSync, statSync, writeSync } from 'node:fs'
import { constants, tmpdir } from 'node:os'
import { isAbsolute, join, relative, resolve } from 'node:path'

import { ModelportError } from '../errors'
import type {
  HealthCheckResult,
  PluginConfig,
  PluginContext,
  PluginExport,
  ToolExecutorPlugin,
  ToolPolicy,
  ToolRunRequest,
  ToolRunResult,
} from './types'

const NAME = 'sandboxed-executor'
/** The PATH commands run with (the only variable not taken from `policy.allowedEnv`). */
const SANDBOX_PATH = '/usr/local/bin:/usr/bin:/bin'
const DEFAULT_OUTPUT_BYTES = 1 << 20

export type Isolation = 'bubblewrap' | 'rlimits'

function refused(message: string): ModelportError {
  return new ModelportError({ code: 'INVALID_REQUEST', plugin: NAME, message })
}

/** `bwrap` arguments: the system read-only, a private /tmp, /proc and /dev, no network, only
 * `workdir` writable. */
function sandboxArgs(workdir: string, cwd: string): string[] {
  const readOnly = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/etc']
  return [
    '--die-with-parent',
    '--new-session',
    '--unshare-all',
    ...readOnly.flatMap((dir) => ['--ro-bind-try', dir, dir]),
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--tmpfs',
    '/tmp',
    '--bind',
    workdir,
    workdir,
    '--chdir',
    cwd,
    '--',
  ]
}

/** Whether `bwrap` can build that sandbox here (installed, and namespaces allowed). */
function bubblewrapWorks(): boolean {
  const dir = tmpdir()
  const probe = spawnSync('bwrap', [...sandboxArgs(dir, dir), 'true'], {
    stdio: 'ignore',
    timeout: 10_000,
    env: { PATH: SANDBOX_PATH },
  })
  return probe.status === 0
}

/** `prlimit` arguments for the policy's CPU and memory limits (none if it sets neither). */
function limitArgs(policy: ToolPolicy): string[] {
  const limits: string[] = []
  if (policy.cpuSeconds !== undefined) limits.push(`--cpu=${policy.cpuSeconds}`)
  if (policy.memoryBytes !== undefined) limits.push(`--as=${policy.memoryBytes}`)
  return limits.length > 0 ? ['prlimit', ...limits, '--'] : []
}

/** How long a command's output may keep arriving after it exited. */
const OUTPUT_DRAIN_MS = 2000

/** `sandboxed-executor`: config `isolation` `auto` (default: bubblewrap where it works),
 * `bubblewrap` (init fails without it) or `rlimits`; `outputDir` for the output files. */
export class SandboxedToolExecutor implements ToolExecutorPlugin {
  readonly name = NAME
  readonly sdkVersion = { minVersion: 1, maxVersion: 1 }
  #isolation: Isolation = 'rlimits'
  #outputDir = ''

  async init(config: PluginConfig, _ctx: PluginContext): Promise<void> {
    const wanted = config['isolation'] ?? 'auto'
    if (wanted !== 'auto' && wanted !== 'bubblewrap' && wanted !== 'rlimits') {
      throw new ModelportError({
        code: 'CONFIG_SCHEMA_VIOLATION',
        plugin: NAME,
        message: `config.isolation must be auto, bubblewrap or rlimits, got ${JSON.stringify(wanted)}`,
      })
    }
    const available = wanted !== 'rlimits' && bubblewrapWorks()
    if (wanted === 'bubblewrap' && !available) {
      throw new ModelportError({
        code: 'UNSUPPORTED',
        plugin: NAME,
        message:
          'bubblewrap (bwrap) cannot build a sandbox on this machine (not installed, or user namespaces are off)',
      })
    }
    this.#isolation = available ? 'bubblewrap' : 'rlimits'
    this.#outputDir =
      typeof config['outputDir'] === 'string'
        ? config['outputDir']
        : mkdtempSync(join(tmpdir(), 'modelport-exec-'))
  }

  /** Which isolation commands get. */
  get isolation(): Isolation {
    return this.#isolation
  }

  async healthCheck(): Promise<HealthCheckResult> {
    const message =
      this.#isolation === 'bubblewrap'
        ? 'isolation: bubblewrap (read-only system, no network, only the working folder writable) + rlimits'
        : 'isolation: rlimits only (no bubblewrap sandbox on this machine): commands see the whole file system and network'
    return { healthy: true, message, details: { isolation: this.#isolation } }
  }

  async shutdown(): Promise<void> {}

  /** A bare command name the enabled policy lists (paths are never allowed: the name is looked up
   * in the sandbox's PATH). */
  isAllowed(command: string, policy: ToolPolicy): boolean {
    return policy.enabled && !command.includes('/') && (policy.allowedCommands ?? []).includes(command)
  }

  async execute(request: ToolRunRequest, policy: ToolPolicy, ctx: PluginContext): Promise<ToolRunResult> {
    if (!this.isAllowed(request.command, policy)) {
      throw refused(`the policy does not allow \`${request.command}\``)
    }
    const workdir = realpathSync(policy.workingDirectory ?? mkdtempSync(join(tmpdir(), 'modelport-work-')))
    if (!statSync(workdir).isDirectory()) throw refused(`the working folder ${workdir} is not a folder`)
    const cwd = resolve(workdir, request.cwd ?? '.')
    const inside = relative(workdir, cwd)
    if (inside.startsWith('..') || isAbsolute(inside))
      throw refused(`cwd ${request.cwd} is outside the working folder`)
    const env: Record<string, string> = { PATH: SANDBOX_PATH }
    for (const key of policy.allowedEnv ?? []) {
      const value = request.env?.[key] ?? process.env[key]
      if (value !== undefined && key !== 'PATH') env[key] = value
    }
    const cap = policy.maxOutputBytes ?? DEFAULT_OUTPUT_BYTES
    const run = `${Date.now()}-${process.pid}-${Math.random().toString(36).slice(2)}`
    const paths = {
      stdout: join(this.#outputDir, `${run}.stdout`),
      stderr: join(this.#outputDir, `${run}.stderr`),
    }
    const argv = [
      ...(this.#isolation === 'bubblewrap' ? ['bwrap', ...sandboxArgs(workdir, cwd)] : []),
      ...limitArgs(policy),
      request.command,
      ...(request.args ?? []),
    ]
    const files = { stdout: openSync(paths.stdout, 'w'), stderr: openSync(paths.stderr, 'w') }
    const written = { stdout: 0, stderr: 0 }
    let truncated = false
    const started = Date.now()
    // Its own process group, so a timeout or abort ends everything it started.
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    })
    const kill = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    const sink = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      const room = cap - written[stream]
      if (chunk.length > room) truncated = true
      if (room > 0) {
        const kept = chunk.subarray(0, room)
        writeSync(files[stream], kept)
        written[stream] += kept.length
      }
    }
    child.stdout.on('data', sink('stdout'))
    child.stderr.on('data', sink('stderr'))
    child.stdin.on('error', () => {})
    child.stdin.end(request.stdin ?? '')
    const timeoutMs = Math.min(request.timeoutMs ?? Infinity, policy.timeoutMs ?? Infinity)
    const timer = Number.isFinite(timeoutMs) ? setTimeout(kill, timeoutMs) : undefined
    let aborted = false
    const onAbort = () => {
      aborted = true
      kill()
    }
    if (ctx.abortSignal?.aborted) onAbort()
    ctx.abortSignal?.addEventListener('abort', onAbort, { once: true })
    const closed = new Promise<void>((done) => child.once('close', () => done()))
    try {
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done, fail) => {
        child.on('error', fail)
        child.on('exit', (exitCode, exitSignal) => done([exitCode, exitSignal]))
      })
      const durationMs = Date.now() - started
      // Output still in the pipes arrives before they close. A descendant that outlived the
      // command (bubblewrap killed while it was still setting up, before its children were tied
      // to it) could hold them open forever: the wait is bounded, then the pipes are dropped.
      let drainTimer: NodeJS.Timeout | undefined
      await Promise.race([closed, new Promise((done) => (drainTimer = setTimeout(done, OUTPUT_DRAIN_MS)))])
      clearTimeout(drainTimer)
      child.stdout.destroy()
      child.stderr.destroy()
      if (aborted)
        throw new ModelportError({
          code: 'ABORTED',
          plugin: NAME,
          message: `\`${request.command}\` was aborted`,
        })
      const result: ToolRunResult = {
        // Killed by a signal: 128 + its number, as shells report it.
        exitCode: code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0),
        durationMs,
        stdoutPath: paths.stdout,
        stderrPath: paths.stderr,
        truncated,
      }
      if (signal) result.signal = signal
      return result
    } finally {
      clearTimeout(timer)
      ctx.abortSignal?.removeEventListener('abort', onAbort)
      closeSync(files.stdout)
      closeSync(files.stderr)
    }
  }
}

/** The `sandboxed-executor` plugin export. */
export const sandboxedToolExecutor: PluginExport<SandboxedToolExecutor> = {
  manifest: {
    name: NAME,
    type: 'tool-executor',
    description: 'Runs allow-listed commands under a ToolPolicy, in a bubblewrap sandbox where available',
    sdkVersion: { minVersion: 1, maxVersion: 1 },
    version: '1.0.0',
  },
  createPlugin: () => new SandboxedToolExecutor(),
}
