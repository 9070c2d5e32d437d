import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'

import type * as Binding from '../binding'

/** Finds the package root (where the generated `binding.js` lives) from this file's folder. */
function packageRoot(): string {
  let dir = __dirname
  while (!existsSync(join(dir, 'binding.js'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`modelport: binding.js not found above ${__dirname}`)
    dir = parent
  }
  return dir
}

/** The napi-rs binding (loaded once, lazily, by the generated platform loader). */
export const binding: typeof Binding = require(join(packageRoot(), 'binding.js')) as typeof Binding
