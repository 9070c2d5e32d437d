// Servers the benchmarks start in processes of their own (so their CPU is not the client's): each
// prints one JSON line `{"port":N}` on stdout once it listens. Their CPU time is read from /proc.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'

const ticksPerSecond = 100 // Linux's USER_HZ, what /proc/<pid>/stat counts in

/** The user + system CPU seconds a process has used so far (Linux; NaN elsewhere). */
export function cpuSecondsOf(pid) {
  try {
    // Fields after the command name (which may hold spaces, so split after its ')').
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond
  } catch {
    return NaN
  }
}

/**
 * Spawns `command args` and waits for its `{"port":N}` line. `input` (optional) is written to its
 * stdin, which is then closed. Resolves to `{ port, pid, cpuSeconds(), stop() }`.
 */
export async function startListening(command, args, { env, input } = {}) {
  const child = spawn(command, args, {
    stdio: [
      input === undefined ? 'ignore' : 'pipe',
      'pipe',
      'inherit',
      ...(command === process.execPath ? ['ipc'] : []),
    ],
    env: env ?? process.env,
  })
  if (input !== undefined) child.stdin.end(input)
  const line = await Promise.race([
    (async () => {
      for await (const line of createInterface({ input: child.stdout })) return line
      return ''
    })(),
    new Promise((_, reject) =>
      child.once('exit', (code, signal) =>
        reject(new Error(`${command} ${args.join(' ')} exited (${code ?? signal}) before listening`)),
      ),
    ),
  ])
  const { port } = JSON.parse(line)
  return {
    port,
    pid: child.pid,
    cpuSeconds: () => cpuSecondsOf(child.pid),
    stop: () => {
      child.kill()
    },
  }
}

/** In a server process started by `startListening`: say the port, and exit with the parent. */
export function announce(port) {
  console.log(JSON.stringify({ port }))
  process.on('disconnect', () => process.exit(0))
}
