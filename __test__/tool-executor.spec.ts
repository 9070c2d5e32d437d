// The sandboxed tool executor modelport ships: the policy (allow-list, working folder, scrubbed
// environment, timeout, CPU limit, output caps) and, with bubblewrap (installed by `npm test` on
// Linux), the sandbox: read-only system, no network, only the working folder writable.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { basename, join } from 'node:path'

import test, { type ExecutionContext } from 'ava'
import { loadPlugin, sandboxedToolExecutor, type ToolPolicy } from 'modelport/sdk'

import { failure, SLACK_MS, tempDir } from './helpers'

const ctx = { runId: 'r', logger: { log: () => {} } }

async function executor(t: ExecutionContext, isolation = 'bubblewrap') {
  const plugin = await loadPlugin(sandboxedToolExecutor, { isolation })
  const workdir = tempDir()
  const policy: ToolPolicy = {
    enabled: true,
    allowedCommands: ['sh', 'echo', 'sleep', 'node'],
    workingDirectory: workdir,
    allowedEnv: ['VISIBLE'],
    timeoutMs: 60_000,
    maxOutputBytes: 1000,
  }
  t.teardown(() => plugin.shutdown())
  return { plugin, policy, workdir }
}

const output = (path: string) => readFileSync(path, 'utf8')

test('an allowed command runs in the working folder; its health says how it is isolated', async (t) => {
  const { plugin, policy, workdir } = await executor(t)
  t.like(await plugin.healthCheck(), { healthy: true, details: { isolation: 'bubblewrap' } })
  const run = await plugin.execute({ command: 'sh', args: ['-c', 'pwd; echo made > out.txt'] }, policy, ctx)
  t.is(run.exitCode, 0)
  t.is(output(run.stdoutPath).trim(), workdir)
  t.is(readFileSync(join(workdir, 'out.txt'), 'utf8'), 'made\n')
  t.false(run.truncated)
})

test('what the policy does not allow is refused before anything runs', async (t) => {
  const { plugin, policy } = await executor(t)
  t.false(plugin.isAllowed('rm', policy))
  t.false(plugin.isAllowed('/bin/sh', policy), 'paths are never allowed, only names')
  t.false(plugin.isAllowed('sh', { ...policy, enabled: false }))
  for (const command of ['rm', '/bin/sh', '../sh']) {
    const err = await failure(t, plugin.execute({ command, args: ['-rf', '/'] }, policy, ctx))
    t.is(err?.code, 'INVALID_REQUEST')
  }
  const outside = await failure(t, plugin.execute({ command: 'echo', cwd: '..' }, policy, ctx))
  t.regex(outside?.message ?? '', /outside the working folder/)
})

test('the environment is scrubbed to the allow-list', async (t) => {
  const { plugin, policy } = await executor(t)
  process.env['SECRET_TOKEN'] = 'sk-should-not-leak'
  t.teardown(() => delete process.env['SECRET_TOKEN'])
  const run = await plugin.execute(
    { command: 'sh', args: ['-c', 'echo "${SECRET_TOKEN:-scrubbed} ${VISIBLE}"'], env: { VISIBLE: 'shown' } },
    policy,
    ctx,
  )
  t.is(output(run.stdoutPath), 'scrubbed shown\n')
})

test('a flood of output is capped into its file and marked truncated', async (t) => {
  const { plugin, policy } = await executor(t)
  const run = await plugin.execute({ command: 'sh', args: ['-c', 'yes flood | head -c 500000'] }, policy, ctx)
  t.is(run.exitCode, 0)
  t.true(run.truncated)
  t.is(output(run.stdoutPath).length, 1000)
})

test('a command that never ends is killed at the timeout; a CPU hog by its CPU limit; abort kills too', async (t) => {
  const { plugin, policy } = await executor(t)
  const slept = await plugin.execute({ command: 'sleep', args: ['600'], timeoutMs: 200 }, policy, ctx)
  t.is(slept.signal, 'SIGKILL')
  t.true(slept.durationMs < 200 + SLACK_MS)
  const hog = await plugin.execute(
    { command: 'sh', args: ['-c', 'while :; do :; done'] },
    { ...policy, cpuSeconds: 1 },
    ctx,
  )
  t.not(hog.exitCode, 0, 'ended by RLIMIT_CPU, not by the 60 s timeout')
  t.true(hog.durationMs < 60_000)
  const controller = new AbortController()
  const pending = plugin.execute({ command: 'sleep', args: ['600'] }, policy, {
    ...ctx,
    abortSignal: controller.signal,
  })
  setTimeout(() => controller.abort(), 50)
  t.is((await failure(t, pending))?.code, 'ABORTED')
})

test('inside bubblewrap: the system is read-only, the network unreachable, /tmp private', async (t) => {
  const { plugin, policy, workdir } = await executor(t)
  const server = createServer((socket) => socket.end('reached'))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const { port } = server.address() as { port: number }
  const write = await plugin.execute({ command: 'sh', args: ['-c', 'echo x > /etc/pwned'] }, policy, ctx)
  t.not(write.exitCode, 0)
  t.regex(output(write.stderrPath), /Read-only file system/)
  const connect = `require('net').connect(${port}, '127.0.0.1').on('connect', () => process.exit(0)).on('error', (e) => { console.error(e.code); process.exit(3) })`
  const network = await plugin.execute({ command: 'node', args: ['-e', connect] }, policy, ctx)
  t.is(network.exitCode, 3, output(network.stderrPath))
  const outsider = tempDir()
  const tmp = await plugin.execute(
    { command: 'sh', args: ['-c', `ls ${outsider} 2>&1; ls /tmp`] },
    policy,
    ctx,
  )
  // Another folder of the host's /tmp is not there; the private /tmp holds only the working
  // folder (bound in because it lives under /tmp here).
  const [missing, ...listed] = output(tmp.stdoutPath).trim().split('\n')
  t.regex(missing ?? '', /No such file or directory/)
  t.deepEqual(listed, [basename(workdir)])
})

test('without a sandbox (isolation: rlimits) the health says so; the policy still holds', async (t) => {
  const { plugin, policy } = await executor(t, 'rlimits')
  t.like(await plugin.healthCheck(), { healthy: true, details: { isolation: 'rlimits' } })
  t.regex((await plugin.healthCheck()).message ?? '', /rlimits only/)
  const slept = await plugin.execute({ command: 'sleep', args: ['600'], timeoutMs: 200 }, policy, ctx)
  t.is(slept.signal, 'SIGKILL')
  t.is((await failure(t, plugin.execute({ command: 'rm' }, policy, ctx)))?.code, 'INVALID_REQUEST')
})

test('a descendant that outlives the command cannot hold the call open', async (t) => {
  // Without a sandbox to end it, a background process in a session of its own keeps the
  // command's stdout open after the command exits: the call still ends, its output kept.
  const { plugin, policy } = await executor(t, 'rlimits')
  t.teardown(() => spawnSync('pkill', ['-f', 'sleep 41.5']))
  const started = Date.now()
  const ran = await plugin.execute(
    { command: 'sh', args: ['-c', 'setsid sleep 41.5 & echo started'] },
    policy,
    ctx,
  )
  t.is(ran.exitCode, 0)
  t.is(output(ran.stdoutPath), 'started\n')
  t.true(Date.now() - started < 41_500 - SLACK_MS, 'returned long before the descendant ended')
})
