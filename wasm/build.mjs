// Builds the Wasm plugins in wasm/ without a Rust wasm target: AssemblyScript sources with the
// official Extism AssemblyScript PDK (wasm/as/*.ts → wasm/build/*.wasm). WAT fixtures
// (wasm/wat/*.wat) need no build: Extism loads WAT text directly. Skips up-to-date outputs.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')
const out = join(here, 'build')

function newer(source, output) {
  return !existsSync(output) || statSync(source).mtimeMs > statSync(output).mtimeMs
}

export function buildWasm() {
  mkdirSync(out, { recursive: true })
  const sources = readdirSync(join(here, 'as')).filter((f) => f.endsWith('.ts') && f !== 'abort.ts')
  const shared = [join(here, 'as', 'abort.ts'), ...readdirSync(join(here, 'as', 'lib')).map((f) => join(here, 'as', 'lib', f))]
  for (const file of sources) {
    const source = join(here, 'as', file)
    const output = join(out, file.replace(/\.ts$/, '.wasm'))
    if (!newer(source, output) && !shared.some((file) => newer(file, output))) continue
    const args = [source, '--outFile', output, '--optimize', '--runtime', 'incremental',
      '--use', 'abort=wasm/as/abort/abort']
    const result = spawnSync(join(root, 'node_modules', '.bin', 'asc'), args, { cwd: root, stdio: 'inherit' })
    if (result.status !== 0) throw new Error(`asc ${file} failed`)
    console.log(`  wasm/build/${file.replace(/\.ts$/, '.wasm')}`)
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) buildWasm()
