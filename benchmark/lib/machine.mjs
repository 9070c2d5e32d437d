// What the benchmarks ran on, recorded next to the results.
import { execFileSync } from 'node:child_process'
import { cpus, freemem, release, totalmem, type } from 'node:os'

function command(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return 'unknown'
  }
}

export function machineInfo(root) {
  const cores = cpus()
  return {
    date: new Date().toISOString(),
    cpu: cores[0]?.model ?? 'unknown',
    cores: cores.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    freeMemoryGiB: Math.round(freemem() / 2 ** 30),
    os: `${type()} ${release()}`,
    node: process.version,
    rustc: command('rustc', ['--version']),
    commit: command('git', ['-C', root, 'describe', '--always', '--dirty']),
  }
}
