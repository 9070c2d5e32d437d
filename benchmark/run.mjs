// `npm run bench`: builds the release binding and plugins, runs every benchmark case in a process
// of its own (interleaved rounds, medians, per-round ratios), and writes benchmark/results.json,
// benchmark/RESULTS.md and benchmark/chart.svg.
//
//   npm run bench                     every case
//   npm run bench -- raw-call http    some cases
//   npm run bench -- --quick          fewer rounds (a smoke run; its numbers are not for comparison)
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

import { build, buildReleasePlugins, root } from '../scripts/build.mjs'
import { buildReleaseBinary } from '../scripts/build.mjs'
import { machineInfo } from './lib/machine.mjs'
import { chartSvg, resultsMarkdown } from './lib/report.mjs'

const allCases = [
  'raw-call',
  'host-functions',
  'provider-overhead',
  'http',
  'streaming',
  'loading',
  'footprint',
  'vectors',
  'gateway',
]
const { values, positionals } = parseArgs({ options: { quick: { type: 'boolean' } }, allowPositionals: true })
const selected = positionals.length ? positionals : allCases
for (const name of selected) {
  if (!allCases.includes(name)) throw new Error(`unknown case ${name}; the cases: ${allCases.join(', ')}`)
}

build()
const binding = buildReleaseBinary(join(root, 'build', 'release'))
buildReleasePlugins()

const scratch = mkdtempSync(join(tmpdir(), 'modelport-bench-'))
const cases = []
for (const name of selected) {
  console.log(`\n▶ benchmark: ${name}`)
  const output = join(scratch, `${name}.json`)
  const started = Date.now()
  const result = spawnSync(
    process.execPath,
    ['--expose-gc', join(root, 'benchmark', 'case.mjs'), name, output, ...(values.quick ? ['--quick'] : [])],
    { stdio: 'inherit', env: { ...process.env, MODELPORT_BINDING_PATH: binding, NODE_NO_WARNINGS: '1' } },
  )
  if (result.status !== 0) {
    console.error(`benchmark ${name} failed (exit ${result.status ?? result.signal})`)
    process.exit(1)
  }
  const seconds = (Date.now() - started) / 1000
  cases.push({
    name,
    date: new Date().toISOString(),
    seconds,
    result: JSON.parse(readFileSync(output, 'utf8')),
  })
  for (const check of cases.at(-1).result.checks) {
    console.log(
      `  ${check.met ? 'met   ' : 'MISSED'} ${check.name}: ${check.value.toFixed(2)} ${check.unit} (target ${check.target})`,
    )
  }
}
rmSync(scratch, { recursive: true, force: true })

const dir = join(root, 'benchmark')
// A run of some cases keeps the other cases' results of the last full run (each case has its date).
const previous = join(dir, 'results.json')
if (selected.length < allCases.length && existsSync(previous)) {
  const kept = JSON.parse(readFileSync(previous, 'utf8')).cases.filter(({ name }) => !selected.includes(name))
  cases.push(...kept)
  cases.sort((a, b) => allCases.indexOf(a.name) - allCases.indexOf(b.name))
}
const report = { machine: machineInfo(root), quick: Boolean(values.quick), cases }
writeFileSync(join(dir, 'results.json'), `${JSON.stringify(report, null, 2)}\n`)
writeFileSync(join(dir, 'RESULTS.md'), `${resultsMarkdown(report)}\n`)
writeFileSync(join(dir, 'chart.svg'), `${chartSvg(cases)}\n`)
console.log(`\nwrote benchmark/results.json, benchmark/RESULTS.md, benchmark/chart.svg`)
