// `npm test`: builds everything (incrementally), then runs every test: cargo tests, the SDK
// crate's publish dry run, ava (and its AI SDK tests again on Node 22 with `ai` 7;
// scripts/ai-sdk-next.mjs), and the registry install test (release packages from a local npm
// registry under Node 20/22/24; scripts/install-test.mjs).
//
// `npm test -- --artifacts DIR` (CI): test the release binary in DIR (a `napi build --release`
// output) instead of building one: ava loads it through MODELPORT_BINDING_PATH, and the install
// test publishes it.
import { readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'

import { build, hostTriple, run, workspaceSelection } from './build.mjs'
import { canRunAISDKNext, runAISDKNext } from './ai-sdk-next.mjs'
import { buildCompatFixtures } from './compat-fixtures.mjs'

const { values } = parseArgs({ options: { artifacts: { type: 'string' } } })
const require = createRequire(import.meta.url)

/** The release binary in the artifacts folder built for this machine's platform. */
function releaseBinary(dir) {
  const { currentPlatform } = require('../dist/src/platform.js')
  const name = `modelport.${currentPlatform()}.node`
  const found = readdirSync(dir, { recursive: true }).find((file) => String(file).endsWith(name))
  if (!found) throw new Error(`no ${name} in ${dir}`)
  return resolve(dir, String(found))
}

try {
  build()
  const compat = buildCompatFixtures()
  console.log('\n▶ cargo test')
  run('cargo', ['test', ...workspaceSelection, '--target', hostTriple()], { timed: true })
  // Plugin authors depend on the SDK from crates.io alone: it must package and build from its
  // own tarball (the release workflow publishes it on version tags).
  console.log('\n▶ cargo publish --dry-run -p modelport-plugin')
  run(
    'cargo',
    ['publish', '--dry-run', '--allow-dirty', '-p', 'modelport-plugin', '--target', hostTriple()],
    {
      timed: true,
    },
  )
  const artifacts = values.artifacts && resolve(values.artifacts)
  const env = artifacts ? { MODELPORT_BINDING_PATH: releaseBinary(artifacts) } : {}
  console.log(`\n▶ ava${artifacts ? ` (binary: ${env.MODELPORT_BINDING_PATH})` : ''}`)
  // The cross-compiler and Rust-PDK tests need the fixtures only Linux (glibc) builds, the
  // sandbox tests the bubblewrap it installs there (scripts/compat-fixtures.mjs).
  const avaFiles = compat
    ? []
    : [
        '__test__/**/*.spec.ts',
        '!__test__/native-abi.spec.ts',
        '!__test__/tool-executor.spec.ts',
        '!__test__/extism-rust-pdk.spec.ts',
      ]
  run('node_modules/.bin/ava', avaFiles, { timed: true, env })
  if (canRunAISDKNext) {
    console.log('\n▶ ava: the AI SDK tests on Node 22 with ai 7 (scripts/ai-sdk-next.mjs)')
    runAISDKNext(env)
  }
  if (process.platform === 'win32') {
    // The install test drives npm and a registry through POSIX shells and paths; on Windows the
    // CI test job covers the release binary through ava above.
    console.log('\n▶ install test: not run on Windows (see scripts/install-test.mjs)')
  } else {
    console.log('\n▶ install test')
    run(process.execPath, ['scripts/install-test.mjs', ...(artifacts ? ['--artifacts', artifacts] : [])], {
      timed: true,
    })
  }
} catch (error) {
  console.error(`\nnpm test failed: ${error.message}`)
  process.exit(1)
}
