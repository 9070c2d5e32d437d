// The AI SDK tests (__test__/ai-sdk.spec.ts) once more on Node 22 with `ai` 7, which needs Node 22:
// the spec loads the `ai` that MODELPORT_AI_SDK names (default: the `ai` 6 the repo installs).
// `npm test` runs it after ava on Linux x64 (where the npm registry's Node packages run); alone:
// `node scripts/ai-sdk-next.mjs` after a build.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { root } from './build.mjs'
import { cachedPackage, nodeBinary } from './cached-packages.mjs'

const NODE = '22.23.3'
const AI = '7.0.173'

/** Whether this machine can run it (the npm registry's Node packages are Linux x64 builds). */
export const canRunAISDKNext = process.platform === 'linux' && process.arch === 'x64'

export function runAISDKNext(env = {}) {
  const node = nodeBinary(NODE)
  const ai = cachedPackage('ai', AI)
  const version = JSON.parse(readFileSync(join(ai, 'package.json'), 'utf8')).version
  console.log(`  ai ${version} from ${ai}, Node ${NODE}`)
  const result = spawnSync(
    node,
    [join(root, 'node_modules', 'ava', 'entrypoints', 'cli.mjs'), '__test__/ai-sdk.spec.ts'],
    {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, ...env, MODELPORT_AI_SDK: ai },
    },
  )
  if (result.error) throw result.error
  if (result.status !== 0) throw new Error(`the AI SDK tests with ai ${AI} on Node ${NODE} failed`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) runAISDKNext()
