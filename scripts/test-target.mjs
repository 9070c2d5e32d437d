// `npm run test:target -- <platform> [ava files…]`: the ava suite on a cross target, on this
// machine: builds the target's binding, plugins and fixtures (`npm run build -- --target <triple>`),
// then runs ava under the npm registry's Node for that CPU through qemu-user (binfmt_misc, so
// Node's child processes run emulated too). Not part of `npm test`.
//
//   npm run test:target -- linux-arm64-gnu                      the suite below
//   npm run test:target -- linux-arm64-gnu __test__/panics.spec.ts
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

import { build, nativeBuildDir, root } from './build.mjs'
import { nodeBinary } from './cached-packages.mjs'
import { crossTarget, enableEmulation, tripleOf } from './cross-targets.mjs'

/** The Node version the suite runs on (the same major as CI's first). */
const NODE = '20.20.2'

/**
 * What runs under emulation: every spec but those that need this machine's own toolchains or
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

const { positionals } = parseArgs({ allowPositionals: true })
const [platform, ...files] = positionals
if (!platform) {
  console.error('usage: npm run test:target -- <platform> [ava files…]   (e.g. linux-arm64-gnu)')
  process.exit(2)
}
try {
  const triple = tripleOf(platform)
  const target = crossTarget(triple)
  const started = Date.now()
  build({ target: triple })
  enableEmulation(triple)
  const node = nodeBinary(NODE, target.node)
  console.log(`\n▶ ava on ${platform}: Node ${NODE} (${target.node}) under qemu-${target.qemu}`)
  const result = spawnSync(
    node,
    [join(root, 'node_modules', 'ava', 'entrypoints', 'cli.mjs'), ...(files.length ? files : SUITE)],
    {
      cwd: root,
      stdio: 'inherit',
      env: {
        ...process.env,
        QEMU_LD_PREFIX: target.sysroot,
        MODELPORT_TEST_NATIVE_DIR: nativeBuildDir(triple),
        // tsx's esbuild has a binary per platform; the host's runs natively beside the emulated Node.
        ESBUILD_BINARY_PATH: join(root, 'node_modules', '@esbuild', 'linux-x64', 'bin', 'esbuild'),
      },
    },
  )
  if (result.error) throw result.error
  console.log(`\ntest:target ${platform}: ${((Date.now() - started) / 1000).toFixed(0)} s in all`)
  if (result.status !== 0) throw new Error(`ava on ${platform} failed (exit ${result.status})`)
} catch (error) {
  console.error(`\ntest:target failed: ${error.message}`)
  process.exit(1)
}
