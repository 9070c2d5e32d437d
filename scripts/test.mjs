// `npm test`: builds everything (incrementally), then runs every test: cargo tests, then ava.
import { build, hostTriple, run, workspaceSelection } from './build.mjs'

try {
  build()
  console.log('\n▶ cargo test')
  run('cargo', ['test', ...workspaceSelection, '--target', hostTriple], { timed: true })
  console.log('\n▶ ava')
  run('node_modules/.bin/ava', [], { timed: true })
} catch (error) {
  console.error(`\nnpm test failed: ${error.message}`)
  process.exit(1)
}
