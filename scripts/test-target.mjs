// `npm run test:target -- <platform> [ava files…]`: the ava suite on a cross target, on this
// machine: builds the target's binding, plugins and fixtures (`npm run build -- --target <triple>`),
// then runs ava under a Node for that platform (scripts/cross-targets.mjs: the npm registry's for
// arm64, PyPI's for musl), through qemu-user for another CPU (binfmt_misc, so Node's child
// processes run emulated too). Not part of `npm test`.
//
//   npm run test:target -- linux-arm64-gnu                      the suite below, then the install test
//   npm run test:target -- linux-arm64-gnu __test__/panics.spec.ts
//   npm run test:target -- linux-arm64-gnu --install            the registry install test alone
//     (scripts/install-test.mjs --platform: the release binary, npm and the checks on that CPU;
//     `--artifacts DIR`: a release binary built before, by `npm run build:release -- --target T`)
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

import { build, nativeBuildDir, root } from './build.mjs'
import { crossTarget, enableEmulation, runEnvironment, targetNodes, tripleOf } from './cross-targets.mjs'

/**
 * What runs on a cross target: every spec but those that need this machine's own toolchains or
 * x64-only fixtures — native-abi (plugins from several x64 compilers), readme-plugin (runs cargo to
 * build a plugin for the host), tool-executor (bubblewrap's x64 sandbox), extism-rust-pdk (its
 * fixture comes from the host's compat build).
 */
const SUITE = [
  '__test__/**/*.spec.ts',
  '!__test__/native-abi.spec.ts',
  '!__test__/readme-plugin.spec.ts',
  '!__test__/tool-executor.spec.ts',
  '!__test__/extism-rust-pdk.spec.ts',
]

/** The registry install test for `platform` (its own release build, then npm under emulation). */
function installTest(platform, artifacts) {
  const started = Date.now()
  const result = spawnSync(
    process.execPath,
    [
      join(root, 'scripts', 'install-test.mjs'),
      '--platform',
      platform,
      ...(artifacts ? ['--artifacts', artifacts] : []),
    ],
    {
      cwd: root,
      stdio: 'inherit',
    },
  )
  if (result.error) throw result.error
  console.log(`\ninstall test on ${platform}: ${((Date.now() - started) / 1000).toFixed(0)} s`)
  if (result.status !== 0) throw new Error(`the install test on ${platform} failed (exit ${result.status})`)
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { install: { type: 'boolean', default: false }, artifacts: { type: 'string' } },
})
const [platform, ...files] = positionals
if (!platform) {
  console.error('usage: npm run test:target -- <platform> [ava files…]   (e.g. linux-arm64-gnu)')
  process.exit(2)
}
try {
  const triple = tripleOf(platform)
  const target = crossTarget(triple)
  const started = Date.now()
  if (values.install) {
    installTest(platform, values.artifacts)
    process.exit(0)
  }
  build({ target: triple })
  enableEmulation(triple)
  // Its Node 20 (the same major as CI's first).
  const [node] = targetNodes(triple, { first: true })
  const how = target.qemu ? `under qemu-${target.qemu}` : 'natively'
  console.log(`\n▶ ava on ${platform}: Node ${target.nodes[0]} (${node}) ${how}`)
  const result = spawnSync(
    node,
    [
      join(root, 'node_modules', 'ava', 'entrypoints', 'cli.mjs'),
      // Under emulation the tests' waits and bounds (helpers.ts `TIME_SCALE`) and ava's inactivity
      // timeout stretch by how much slower the code runs there (cross-targets.mjs `timeScale`).
      `--timeout=${3 * target.timeScale}m`,
      ...(files.length ? files : SUITE),
    ],
    {
      cwd: root,
      stdio: 'inherit',
      env: {
        ...process.env,
        ...runEnvironment(triple),
        MODELPORT_TEST_NATIVE_DIR: nativeBuildDir(triple),
        MODELPORT_TEST_TIME_SCALE: String(target.timeScale),
        // Memory bounds allow for the emulator's own memory in the process (helpers.ts).
        ...(target.qemu ? { MODELPORT_TEST_EMULATOR: `qemu-${target.qemu}` } : {}),
        // tsx's esbuild has a binary per platform; the host's runs natively beside the emulated Node.
        ESBUILD_BINARY_PATH: join(root, 'node_modules', '@esbuild', 'linux-x64', 'bin', 'esbuild'),
      },
    },
  )
  if (result.error) throw result.error
  console.log(`\ntest:target ${platform}: ${((Date.now() - started) / 1000).toFixed(0)} s in all`)
  if (result.status !== 0) throw new Error(`ava on ${platform} failed (exit ${result.status})`)
  if (!files.length) installTest(platform, values.artifacts)
} catch (error) {
  console.error(`\ntest:target failed: ${error.message}`)
  process.exit(1)
}
