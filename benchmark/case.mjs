// Runs one benchmark case in this process and writes its result as JSON to a file:
//   node --expose-gc benchmark/case.mjs <case> <output.json> [--quick]
import { writeFileSync } from 'node:fs'

const [name, output] = process.argv.slice(2)
const { run } = await import(`./cases/${name}.mjs`)
const result = await run({ quick: process.argv.includes('--quick') })
writeFileSync(output, JSON.stringify(result))
// Native providers and Wasm plugins keep no handles open; exit promptly in any case.
process.exit(0)
