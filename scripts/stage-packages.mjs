// Stages the npm packages exactly as a release publishes them, in build/packages/modelport/ (laid
// out like the repo):
//   ./                  the main package: the files its `files` whitelist selects, and a
//                       package.json with one optional dependency per platform package
//   npm/<platform>/     one package per target, holding that target's .node and the licence
// The repo's own package.json and npm/ stay untouched. The release workflow runs this with the
// binaries its build matrix produced (`--artifacts DIR --require-all`); the registry install test
// runs it with the host's release build.
//
//   node scripts/stage-packages.mjs                       release build for this machine, then stage
//   node scripts/stage-packages.mjs --artifacts DIR [--require-all]
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

import { buildReleaseBinary, hostTriple, root } from './build.mjs'
import { packedFiles } from './package-contents.mjs'

export const stageDir = join(root, 'build', 'packages')
export const mainPackageDir = join(stageDir, 'modelport')
export const platformPackagesDir = join(mainPackageDir, 'npm')

/** Stages the packages from the `.node` files in `artifactsDir` (searched recursively: CI
 * downloads each target's binaries into a folder of its own). With `requireAll`, every target in
 * package.json must have its binary. Returns the staged platform packages that hold a binary. */
export function stagePackages({ artifactsDir, requireAll = false }) {
  rmSync(stageDir, { recursive: true, force: true })
  mkdirSync(mainPackageDir, { recursive: true })

  // The main package: exactly what its `files` whitelist selects (plus package.json, README, LICENSE).
  for (const file of packedFiles(root)) {
    mkdirSync(dirname(join(mainPackageDir, file)), { recursive: true })
    cpSync(join(root, file), join(mainPackageDir, file))
  }
  // The platform packages, each with the licence, then their binaries.
  cpSync(join(root, 'npm'), platformPackagesDir, { recursive: true })
  for (const platform of readdirSync(platformPackagesDir)) {
    cpSync(join(root, 'LICENSE'), join(platformPackagesDir, platform, 'LICENSE'))
  }
  // Each binary into its package (as `napi artifacts` does, which insists on every target).
  const binaries = readdirSync(artifactsDir, { recursive: true }).map(String)
  const staged = readdirSync(platformPackagesDir).filter((platform) => {
    const dir = join(platformPackagesDir, platform)
    const { main } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    const found = binaries.find((file) => basename(file) === main)
    if (found) cpSync(join(artifactsDir, found), join(dir, main))
    return found !== undefined
  })
  const missing = readdirSync(platformPackagesDir).filter((platform) => !staged.includes(platform))
  if (requireAll && missing.length > 0) {
    throw new Error(`no binary in ${artifactsDir} for: ${missing.join(', ')}`)
  }
  // The main package's optionalDependencies: every platform package, at this version (npm installs
  // the one whose os/cpu/libc match). `napi pre-publish` would write the same, but refuses to
  // stage fewer than all targets, which the install test needs.
  const manifestPath = join(mainPackageDir, 'package.json')
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'))
  manifest.optionalDependencies = Object.fromEntries(
    readdirSync(platformPackagesDir)
      .sort()
      .map((platform) => [`modelport-${platform}`, manifest.version]),
  )
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`)
  return staged.map((platform) => {
    const dir = join(platformPackagesDir, platform)
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    return { platform, dir, binary: join(dir, manifest.main), size: statSync(join(dir, manifest.main)).size }
  })
}

/** Records the release binary's size (bytes) in build/packages/sizes.json and prints it. */
function recordSizes(staged) {
  const sizes = Object.fromEntries(staged.map(({ binary, size }) => [basename(binary), size]))
  writeFileSync(join(stageDir, 'sizes.json'), `${JSON.stringify(sizes, null, 2)}\n`)
  for (const [name, size] of Object.entries(sizes)) {
    console.log(`  ${name}: ${(size / 2 ** 20).toFixed(2)} MiB (${size} bytes)`)
  }
}

/** The release build for this machine (or for the cross target `triple`), staged. */
export function stageHostPackages(triple = hostTriple()) {
  const artifactsDir = join(root, 'build', 'release')
  rmSync(artifactsDir, { recursive: true, force: true })
  buildReleaseBinary(artifactsDir, triple)
  const staged = stagePackages({ artifactsDir })
  recordSizes(staged)
  return staged
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const { values } = parseArgs({
      options: { artifacts: { type: 'string' }, 'require-all': { type: 'boolean', default: false } },
    })
    if (values.artifacts) {
      recordSizes(stagePackages({ artifactsDir: values.artifacts, requireAll: values['require-all'] }))
    } else {
      stageHostPackages()
    }
    console.log(`staged in ${stageDir}`)
  } catch (error) {
    console.error(`staging failed: ${error.message}`)
    process.exit(1)
  }
}
