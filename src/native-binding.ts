import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

import type * as Binding from '../binding'
import { ModelportError } from './errors'
import { currentPlatform, supportedPlatforms } from './platform'

/** Environment variable naming a `.node` file to load instead of the platform package's binary
 * (a local build, a binary patched for a platform we do not ship). */
export const BINDING_PATH_VARIABLE = 'MODELPORT_BINDING_PATH'

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

/** The first lines of the messages of `error` and its `cause` chain (the generated loader chains
 * one error per candidate it tried; "Require stack" listings and empty links are left out). */
function causesOf(error: unknown): string[] {
  const causes: string[] = []
  for (let e = error; e != null && causes.length < 20; e = (e as { cause?: unknown }).cause) {
    const line = (e instanceof Error ? e.message : String(e)).split('\n')[0]!
    if (line && !causes.includes(line)) causes.push(line)
    if (!(e instanceof Error)) break
  }
  return causes
}

/** Loads the binding: the override path if set, else the generated loader (which picks the
 * `.node` next to it, then the installed `modelport-<platform>` package). Failures become a
 * `ModelportError` that names the platform and what to do. */
function loadBinding(): typeof Binding {
  const override = process.env[BINDING_PATH_VARIABLE]
  if (override) {
    const path = resolve(override)
    try {
      return require(path) as typeof Binding
    } catch (error) {
      throw new ModelportError(
        {
          code: 'BINDING_LOAD_FAILED',
          message: `the native binding named by ${BINDING_PATH_VARIABLE} could not be loaded`,
          path,
          causes: causesOf(error),
        },
        { cause: error },
      )
    }
  }
  const root = packageRoot()
  try {
    return require(join(root, 'binding.js')) as typeof Binding
  } catch (error) {
    const platform = currentPlatform()
    const supported = supportedPlatforms(root)
    const message = supported.includes(platform)
      ? `the native binding for ${platform} could not be loaded: install the package 'modelport-${platform}' ` +
        `(npm installs it as an optional dependency of modelport; it is skipped with --omit=optional or ` +
        `--no-optional, or when the lock file was written on another platform), or set ` +
        `${BINDING_PATH_VARIABLE} to a modelport .node file`
      : `modelport has no prebuilt binary for ${platform} (Node ${process.version}); ` +
        `supported: ${supported.join(', ')}. Build it from source (see the README) and set ` +
        `${BINDING_PATH_VARIABLE} to the .node file`
    throw new ModelportError(
      {
        code: supported.includes(platform) ? 'BINDING_LOAD_FAILED' : 'UNSUPPORTED_PLATFORM',
        message,
        // The loader's own summary blames an npm bug; its causes say what was tried.
        causes: causesOf((error as { cause?: unknown }).cause ?? error),
      },
      { cause: error },
    )
  }
}

/** The napi-rs binding (loaded once, when modelport is first imported). */
export const binding: typeof Binding = loadBinding()
