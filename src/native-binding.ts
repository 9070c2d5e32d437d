import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

import type * as Binding from '../binding'
import { ModelportError } from './errors'
import { currentPlatform, supportedPlatforms } from './platform'

/** Environment variable naming a `.node` file to load instead of the platform package's binary
 * (a local build, a binary patched for a platform we do not ship). */
export const BINDING_PATH_VARIABLE = 'MODELPORT_BINDING_PATH'

/** The package root (where package.json and a local build's `.node` files live), from this
 * file's folder: dist/src/ in the package, src/ when run from the sources. */
function packageRoot(): string {
  let dir = __dirname
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`modelport: package.json not found above ${__dirname}`)
    dir = parent
  }
  return dir
}

/** The first lines of the messages of `error` and its `cause` chain ("Require stack" listings
 * and empty links are left out). */
function causesOf(error: unknown): string[] {
  const causes: string[] = []
  for (let e = error; e != null && causes.length < 20; e = (e as { cause?: unknown }).cause) {
    const line = (e instanceof Error ? e.message : String(e)).split('\n')[0]!
    if (line && !causes.includes(line)) causes.push(line)
    if (!(e instanceof Error)) break
  }
  return causes
}

/** Loads the binding: the override path if set, else this platform's binary — a local build's
 * `modelport.<platform>.node` at the package root, then the installed `modelport-<platform>`
 * package. The platform is decided once, by `currentPlatform` (on Linux the C library of this
 * Node process, the only one whose binary it can load), not guessed from the system's tools as
 * napi-rs's generated loader does (/usr/bin/ldd: glibc's, for a musl Node on a glibc system).
 * Failures become a `ModelportError` that names the platform and what to do. */
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
  const platform = currentPlatform()
  const supported = supportedPlatforms(root)
  if (!supported.includes(platform))
    throw new ModelportError({
      code: 'UNSUPPORTED_PLATFORM',
      message:
        `modelport has no prebuilt binary for ${platform} (Node ${process.version}); ` +
        `supported: ${supported.join(', ')}. Build it from source (see the README) and set ` +
        `${BINDING_PATH_VARIABLE} to the .node file`,
    })
  const local = join(root, `modelport.${platform}.node`)
  const errors: unknown[] = []
  for (const candidate of existsSync(local) ? [local, `modelport-${platform}`] : [`modelport-${platform}`]) {
    try {
      return require(candidate) as typeof Binding
    } catch (error) {
      errors.push(error)
    }
  }
  throw new ModelportError(
    {
      code: 'BINDING_LOAD_FAILED',
      message:
        `the native binding for ${platform} could not be loaded: install the package 'modelport-${platform}' ` +
        `(npm installs it as an optional dependency of modelport; it is skipped with --omit=optional or ` +
        `--no-optional, or when the lock file was written on another platform` +
        // npm picks gnu or musl by the system's /usr/bin/ldd, not by this Node's C library.
        (platform.endsWith('-musl') ? `; for a musl Node on a glibc system: npm install --libc=musl` : '') +
        `), or set ${BINDING_PATH_VARIABLE} to a modelport .node file`,
      causes: errors.flatMap(causesOf),
    },
    { cause: errors.at(-1) },
  )
}

/** The napi-rs binding (loaded once, when modelport is first imported). */
export const binding: typeof Binding = loadBinding()
