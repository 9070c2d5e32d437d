// A Python virtualenv holding pinned PyPI packages, made once and remade when the pins change:
// the gateway benchmark's LiteLLM, the cross builds' zig and cargo-zigbuild.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** The folder of `dir`'s executables. */
export function venvBin(dir) {
  return join(dir, process.platform === 'win32' ? 'Scripts' : 'bin')
}

/** Makes the virtualenv `dir` with `requirements` (pinned, `name==version`) in it, unless it holds
 * exactly those already; `what` names it in the log. */
export function pythonVenv(dir, requirements, what) {
  const stamp = join(dir, 'modelport-requirement.txt')
  const wanted = requirements.join('\n')
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) return
  console.log(`  installing ${requirements.join(', ')} into ${dir} (${what})`)
  const python = process.env.PYTHON ?? (process.platform === 'win32' ? 'python' : 'python3')
  for (const [command, args] of [
    [python, ['-m', 'venv', '--clear', dir]],
    [join(venvBin(dir), 'pip'), ['install', '--quiet', '--disable-pip-version-check', ...requirements]],
  ]) {
    const result = spawnSync(command, args, { stdio: 'inherit' })
    if (result.error) throw result.error
    if (result.status !== 0)
      throw new Error(`${command} ${args.join(' ')} failed with exit code ${result.status}`)
  }
  writeFileSync(stamp, wanted)
}
