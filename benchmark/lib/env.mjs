// What every benchmark case process shares: where the release build put the binding and the
// plugins, and the modelport facade loaded on that binding (the runner sets MODELPORT_BINDING_PATH).
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { dllExt } from '../../scripts/build.mjs'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const releaseDir = join(root, 'build', 'release')
export const releasePluginsDir = join(releaseDir, 'plugins')
export const require = createRequire(join(root, 'package.json'))

/** A release-built native plugin (build/release/plugins/<name>.<ext>). */
export function nativePlugin(name) {
  return join(releasePluginsDir, `${name}.${dllExt}`)
}

/** A Wasm fixture built from wasm/as/<name>.ts. */
export function wasmPlugin(name) {
  return join(root, 'wasm', 'build', `${name}.wasm`)
}

/** QueryMT's own openai provider, built by QueryMT's macros (a Rust guest, not AssemblyScript). */
export const querymtPlugin = join(root, 'wasm', 'thirdparty', 'querymt', 'qmt_openai.wasm')

/** The modelport facade (dist/index.js), on the binding MODELPORT_BINDING_PATH names. */
export function modelport() {
  if (!process.env.MODELPORT_BINDING_PATH) {
    throw new Error('MODELPORT_BINDING_PATH is not set: run the cases through `npm run bench`')
  }
  return require(join(root, 'dist', 'index.js'))
}

/** The official Extism JS SDKs, as installed (the rc under the npm alias `extism-2-rc`). */
export const extismSdks = {
  '@extism/extism 1.0.3': () => require('@extism/extism'),
  '@extism/extism 2.0.0-rc13': () => require('extism-2-rc'),
}

/** Resident set size in MiB. */
export function rssMiB() {
  return process.memoryUsage.rss() / 1024 / 1024
}
