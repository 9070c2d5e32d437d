// `npm run demo`: builds what is missing (incrementally), then runs examples/demo.mjs.
import { build } from './build.mjs'

try {
  build()
} catch (error) {
  console.error(`build failed: ${error.message}`)
  process.exit(1)
}
console.log('\n▶ demo\n')
await import('../examples/demo.mjs')
