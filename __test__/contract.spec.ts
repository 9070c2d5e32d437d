// The Rust↔TypeScript contract, checked rather than kept in step by hand.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import test from 'ava'

import { root } from './helpers'

/** Codes only the facade throws, before or without the binding (it failed to load). */
const FACADE_ONLY = ['UNSUPPORTED_PLATFORM', 'BINDING_LOAD_FAILED']

test("the TypeScript ErrorCode type lists exactly the core's codes and the facade's own", (t) => {
  const source = readFileSync(join(root, 'src', 'errors.ts'), 'utf8')
  const union = /export type ErrorCode =([\s\S]*?)\n\n/.exec(source)?.[1] ?? ''
  const declared = [...union.matchAll(/\|\s*'([A-Z_]+)'/g)].map((m) => m[1]!)
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { binding } = require(join(root, 'dist', 'src', 'native-binding.js')) as {
    binding: { errorCodes(): string[] }
  }
  const core = binding.errorCodes()
  t.true(core.length >= 20, `the binding reports ${core.length} codes`)
  t.deepEqual([...declared].sort(), [...core, ...FACADE_ONLY].sort())
})
