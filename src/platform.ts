import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/** A platform in napi-rs's naming (`linux-x64-gnu`, `darwin-arm64`, `win32-x64-msvc`): the suffix
 * of the per-platform binary package (`modelport-linux-x64-gnu`) and of its `.node` file. */
export type PlatformId = string

const ARCHES: Record<string, string> = { x86_64: 'x64', aarch64: 'arm64', i686: 'ia32', armv7: 'arm' }
const SYSTEMS: Array<[suffix: string, platform: string]> = [
  ['-apple-darwin', 'darwin'],
  ['-pc-windows-msvc', 'win32'],
  ['-unknown-linux-gnu', 'linux'],
  ['-unknown-linux-musl', 'linux'],
]

/** The platform id of a Rust target triple, as napi-rs names its packages. */
export function platformOfTriple(triple: string): PlatformId {
  const arch = ARCHES[triple.split('-')[0] ?? '']
  const system = SYSTEMS.find(([suffix]) => triple.endsWith(suffix))
  if (!arch || !system) throw new Error(`modelport: unknown target triple '${triple}' in package.json`)
  const abi = triple.endsWith('-gnu')
    ? '-gnu'
    : triple.endsWith('-musl')
      ? '-musl'
      : triple.endsWith('-msvc')
        ? '-msvc'
        : ''
  return `${system[1]}-${arch}${abi}`
}

/** The platform this process runs on (on Linux, the C library decides between `gnu` and `musl`). */
export function currentPlatform(): PlatformId {
  const { platform, arch } = process
  if (platform === 'win32') return `win32-${arch}-msvc`
  if (platform !== 'linux') return `${platform}-${arch}`
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined
  return `linux-${arch}-${report?.header?.glibcVersionRuntime ? 'gnu' : 'musl'}`
}

/** The platforms the package ships binaries for (its `napi.targets`). */
export function supportedPlatforms(packageRoot: string): PlatformId[] {
  const manifest = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as {
    napi?: { targets?: string[] }
  }
  return (manifest.napi?.targets ?? []).map(platformOfTriple)
}
