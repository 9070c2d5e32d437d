// The packages as npm sees them (file lists, platform fields) and the loader's behaviour when no
// binary fits. The registry install of the staged release packages is scripts/install-test.mjs.
import { spawnSync } from 'node:child_process'
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import test from 'ava'

import { currentPlatform } from '../src/platform'
import { root, tempDir, tempFile, wasm } from './helpers'

interface PackageManifest {
  name: string
  version: string
  main?: string
  files?: string[]
  os?: string[]
  cpu?: string[]
  libc?: string[]
  napi: { targets: string[] }
  optionalDependencies?: Record<string, string>
}

type PackageContents = {
  packedFiles(dir: string): string[]
  mainPackageFiles(root: string): string[]
  platformPackageFiles(platform: string, options: { staged: boolean }): string[]
}
// A plain ES module shared with scripts/install-test.mjs (a variable path: TypeScript has no types for it).
const contentsModule = '../scripts/package-contents.mjs'
const contents = import(contentsModule) as Promise<PackageContents>

const manifest = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageManifest
const mainManifest = manifest(root)
const platforms = readdirSync(join(root, 'npm')).sort()

/** Runs `code` in a child Node that loads the built package (dist/), optionally after `preload`. */
function runPackage(code: string, env: Record<string, string> = {}, preload?: string) {
  const args = [...(preload ? ['--require', preload] : []), '-e', code]
  return spawnSync(process.execPath, args, {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, MODELPORT_BINDING_PATH: '', ...env },
  })
}

test('the main package holds only the compiled facade, the loader, README, LICENSE and package.json', async (t) => {
  const { mainPackageFiles, packedFiles } = await contents
  t.deepEqual(packedFiles(root), mainPackageFiles(root))
  // Written at publish time (scripts/stage-packages.mjs), never committed.
  t.is(mainManifest.optionalDependencies, undefined)
})

test('there is one platform package per napi target, each holding only its binary', async (t) => {
  const { packedFiles, platformPackageFiles } = await contents
  t.is(platforms.length, mainManifest.napi.targets.length)
  for (const platform of platforms) {
    const dir = join(root, 'npm', platform)
    const pkg = manifest(dir)
    t.is(pkg.name, `modelport-${platform}`)
    t.is(pkg.version, mainManifest.version, `${platform} version`)
    t.is(pkg.main, `modelport.${platform}.node`)
    t.deepEqual(pkg.files, [pkg.main])
    const [os, cpu, abi] = platform.split('-')
    t.deepEqual(pkg.os, [os])
    t.deepEqual(pkg.cpu, [cpu])
    t.deepEqual(
      pkg.libc,
      abi === 'gnu' ? ['glibc'] : abi === 'musl' ? ['musl'] : undefined,
      `${platform} libc`,
    )
    // The main package's own os/cpu let npm refuse an unsupported machine at install time.
    t.true(mainManifest.os!.includes(os!) && mainManifest.cpu!.includes(cpu!), `${platform} allowed by main`)
    t.deepEqual(packedFiles(dir), platformPackageFiles(platform, { staged: false }))
  }
})

test('on a platform without a binary, importing modelport fails with UNSUPPORTED_PLATFORM naming it', (t) => {
  const preload = tempFile('fake-arch.cjs', "Object.defineProperty(process, 'arch', { value: 'mips' })\n")
  const result = runPackage("require('./dist/index.js')", {}, preload)
  t.not(result.status, 0)
  const pretended = currentPlatform().replace(process.arch, 'mips') // e.g. linux-mips-gnu
  t.true(
    result.stderr.includes(`ModelportError: modelport has no prebuilt binary for ${pretended} `),
    result.stderr,
  )
  t.regex(result.stderr, /supported: linux-x64-gnu, linux-arm64-gnu, linux-x64-musl/)
  t.regex(result.stderr, /code: 'UNSUPPORTED_PLATFORM'/)
  t.true(result.stderr.includes(`(Node ${process.version})`), result.stderr)
})

test('the binary is chosen by the C library of the running Node, not the system’s tools', (t) => {
  // The package without any binary, run by a Node whose report names no glibc (a musl Node; here
  // on a glibc system, whose /usr/bin/ldd is glibc's): the loader must want the musl package, the
  // only one such a process can load (`npm install --libc=musl` installs it there).
  const copy = tempDir()
  cpSync(join(root, 'dist'), join(copy, 'dist'), { recursive: true })
  cpSync(join(root, 'package.json'), join(copy, 'package.json'))
  const preload = tempFile(
    'musl-report.cjs',
    `const getReport = process.report.getReport.bind(process.report)
process.report.getReport = (...args) => {
  const report = getReport(...args)
  delete report.header.glibcVersionRuntime
  return report
}
`,
  )
  const result = spawnSync(process.execPath, ['--require', preload, '-e', "require('./dist/index.js')"], {
    cwd: copy,
    encoding: 'utf8',
    env: { ...process.env, MODELPORT_BINDING_PATH: '' },
  })
  t.not(result.status, 0)
  const wanted = process.platform === 'linux' ? `linux-${process.arch}-musl` : currentPlatform()
  t.regex(result.stderr, /code: 'BINDING_LOAD_FAILED'/)
  t.true(result.stderr.includes(`install the package 'modelport-${wanted}'`), result.stderr)
  t.true(result.stderr.includes(`Cannot find module 'modelport-${wanted}'`), result.stderr)
  if (wanted.endsWith('-musl')) t.true(result.stderr.includes('npm install --libc=musl'), result.stderr)
})

test('a local binary that does not load is reported with the package tried after it', (t) => {
  // The package with a broken build of its own platform's binary at its root (not a shared
  // library), and no platform package: both candidates fail, both reasons are in the error.
  const copy = tempDir()
  cpSync(join(root, 'dist'), join(copy, 'dist'), { recursive: true })
  cpSync(join(root, 'package.json'), join(copy, 'package.json'))
  const local = join(copy, `modelport.${currentPlatform()}.node`)
  writeFileSync(local, 'not a shared library\n')
  const result = spawnSync(process.execPath, ['-e', "require('./dist/index.js')"], {
    cwd: copy,
    encoding: 'utf8',
    env: { ...process.env, MODELPORT_BINDING_PATH: '' },
  })
  t.not(result.status, 0)
  t.regex(result.stderr, /code: 'BINDING_LOAD_FAILED'/)
  t.true(result.stderr.includes(local), result.stderr)
  t.true(result.stderr.includes(`Cannot find module 'modelport-${currentPlatform()}'`), result.stderr)
})

test('MODELPORT_BINDING_PATH loads the binary it names', (t) => {
  const binary = join(root, `modelport.${currentPlatform()}.node`)
  const code = `const { ExtismPlugin } = require('./dist/index.js')
ExtismPlugin.load(${JSON.stringify(wasm('count_vowels'))}).then((p) => {
  console.log(Buffer.from(p.callSync('count_vowels', 'a binary path override')).toString())
})`
  // A preload that makes the platform's own binary fail to be found: only the override can work.
  const preload = tempFile('fake-arch.cjs', "Object.defineProperty(process, 'arch', { value: 'mips' })\n")
  const result = runPackage(code, { MODELPORT_BINDING_PATH: binary }, preload)
  t.is(result.status, 0, result.stderr)
  t.regex(result.stdout, /"count":\s*8/)
})

test('a MODELPORT_BINDING_PATH that does not load fails with BINDING_LOAD_FAILED and the path', (t) => {
  const missing = join(root, 'build', 'no-such-binding.node')
  const result = runPackage("require('./dist/index.js')", { MODELPORT_BINDING_PATH: missing })
  t.not(result.status, 0)
  t.regex(result.stderr, /code: 'BINDING_LOAD_FAILED'/)
  t.true(result.stderr.includes(`path: '${missing}'`), result.stderr)
})

test('the plugin SDK crate packages only its sources, and builds from its package', (t) => {
  const cargo = (args: string[]) =>
    spawnSync('cargo', ['package', '-p', 'modelport-plugin', '--allow-dirty', ...args], {
      cwd: root,
      encoding: 'utf8',
    })
  const listed = cargo(['--list'])
  t.is(listed.status, 0, listed.stderr)
  const files = listed.stdout.trim().split('\n')
  const allowed =
    /^(src\/[a-z_]+\.rs|build\.rs|README\.md|Cargo\.toml|Cargo\.toml\.orig|Cargo\.lock|\.cargo_vcs_info\.json)$/
  t.deepEqual(
    files.filter((file) => !allowed.test(file)),
    [],
  )
  for (const required of ['src/lib.rs', 'src/abi.rs', 'README.md', 'Cargo.toml'])
    t.true(files.includes(required), required)
  // Packs it and compiles the packed crate alone, with its dependencies from crates.io.
  const packaged = cargo([])
  t.is(packaged.status, 0, packaged.stderr)
})

test('staging for a release refuses to go on without every target’s binary', async (t) => {
  const stageModule = '../scripts/stage-packages.mjs'
  const { stagePackages } = (await import(stageModule)) as {
    stagePackages(options: { artifactsDir: string; requireAll: boolean }): unknown
  }
  const error = t.throws(() => stagePackages({ artifactsDir: tempDir(), requireAll: true }))
  for (const platform of platforms) t.true(error?.message.includes(platform), platform)
})
