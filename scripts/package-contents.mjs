// What each published package must hold, derived from the sources. The packaging tests compare
// `npm pack --dry-run` against these lists, for the repo and for the staged release tarballs.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'

/** The main package: the compiled facade (.js + .d.ts for each .ts of index.ts and src/), the
 * binding's generated type definitions, the C header of the native plugin ABI, README, LICENSE and package.json. No tests, fixtures, Rust or TypeScript
 * sources, source maps, build info or binaries. */
export function mainPackageFiles(root) {
  const sources = ['index.ts']
  const walk = (dir) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`
      if (entry.isDirectory()) walk(path)
      else if (entry.name.endsWith('.ts')) sources.push(path)
    }
  }
  walk('src')
  const compiled = sources.flatMap((file) => [
    `dist/${file.replace(/\.ts$/, '.js')}`,
    `dist/${file.replace(/\.ts$/, '.d.ts')}`,
  ])
  return [
    ...compiled,
    'binding.d.ts',
    'include/modelport_plugin.h',
    'README.md',
    'LICENSE',
    'package.json',
  ].sort()
}

/** A platform package: its binary only, with README, LICENSE and package.json. In the repo
 * (`staged: false`) the binary and the licence copy are not there yet. */
export function platformPackageFiles(platform, { staged }) {
  const files = ['README.md', 'package.json']
  if (staged) files.push('LICENSE', `modelport.${platform}.node`)
  return files.sort()
}

/** The files `npm pack` puts in the package at `dir` (paths relative to it, sorted). */
export function packedFiles(dir) {
  const result = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: dir,
    encoding: 'utf8',
    shell: process.platform === 'win32', // npm is npm.cmd there
  })
  if (result.status !== 0) throw new Error(`npm pack --dry-run in ${dir} failed:\n${result.stderr}`)
  return JSON.parse(result.stdout)[0]
    .files.map((file) => file.path)
    .sort()
}
