// `npm test`: builds everything (incrementally), then runs every test: cargo tests, then ava.
import { build, run } from './build.mjs'

try {
  build()
  console.log('\n▶ cargo test')
  run('cargo', ['test', '--workspace', '--exclude', 'modelport-node'], { timed: true })
  console.log('\n▶ ava')
  run('node_modules/.bin/ava', [], { timed: true })
} catch (error) {
  console.error(`\nnpm test failed: ${error.message}`)
  process.exit(1)
}
