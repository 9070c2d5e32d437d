// `npm run test:stress [-- --runs N]`: runs the whole test command (`npm test`: build, cargo
// tests, ava, install test) N times (default 3), each next to two CPU-burning processes, as on a
// CI machine that is still busy when the tests start. Reports each run; fails if any run failed.
// Not part of `npm test`: use it before calling a change that touches anything timed done.
import { fork, spawn } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { parseArgs } from 'node:util'

import { root } from './build.mjs'

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } })
const runs = Number(values.runs)
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`--runs takes a whole number of runs, not ${values.runs}`)
  process.exit(2)
}
const BURNERS = 2

const burning = new Set()
/** Starts a process that keeps one CPU busy until killed (with this script at the latest). */
function burner() {
  const child = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' })
  burning.add(child)
  child.on('exit', () => burning.delete(child))
  return child
}
process.on('exit', () => burning.forEach((child) => child.kill('SIGKILL')))
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130))

/** Runs `npm test` once; resolves with its exit code and wall time. */
function testRun() {
  return new Promise((resolve) => {
    const started = Date.now()
    const child = fork(new URL('./test.mjs', import.meta.url), [], { cwd: root, stdio: 'inherit' })
    child.on('exit', (code, signal) =>
      resolve({ code: code ?? signal, seconds: (Date.now() - started) / 1000 }),
    )
  })
}

console.log(
  `test:stress: ${runs} run(s) of npm test, each beside ${BURNERS} CPU burners (${availableParallelism()} CPUs here)`,
)
const results = []
for (let run = 1; run <= runs; run++) {
  console.log(`\n━━ stress run ${run}/${runs} ━━`)
  const burners = Array.from({ length: BURNERS }, burner)
  const result = await testRun()
  for (const child of burners) child.kill('SIGKILL')
  results.push(result)
  console.log(
    `━━ stress run ${run}/${runs}: ${result.code === 0 ? 'passed' : `FAILED (${result.code})`} in ${result.seconds.toFixed(0)} s`,
  )
}
console.log('\ntest:stress summary')
for (const [i, { code, seconds }] of results.entries()) {
  console.log(`  run ${i + 1}: ${code === 0 ? 'passed' : `FAILED (${code})`}, ${seconds.toFixed(0)} s`)
}
const failed = results.filter((r) => r.code !== 0).length
console.log(failed === 0 ? `all ${runs} runs passed` : `${failed} of ${runs} runs failed`)
process.exit(failed === 0 ? 0 : 1)
