import { spawnSync } from 'node:child_process'
import { join } from 'node:path'

import test from 'ava'
import { PluginRegistry } from 'modelport'
import { startMockOpenAI } from 'modelport/testing'

import { fixture, root, tempDir, wasm } from './helpers'

// A panic in each plugin method: reliability.spec.ts (case 7).

test('a panic in a provider’s destructor is contained', async (t) => {
  const mock = await startMockOpenAI()
  t.teardown(() => mock.close())
  const registry = await PluginRegistry.fromConfig({
    providers: [
      { name: 'panicky', path: fixture('panicky'), config: { base_url: mock.url, panic_in: 'drop' } },
    ],
  })
  for (let i = 0; i < 5; i++) {
    const provider = await registry.builder('panicky').build()
    t.is((await provider.chat([{ role: 'user', content: `n${i}` }])).text, `Echo: n${i}`)
  }
  await registry.close()
  // Let the providers be collected: their plugin objects drop (and panic) inside the plugin.
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.()
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  t.pass()
})

// Native code runs in-process: abort() and segfaults cannot be contained. They are tested in a
// child process: the process ends by the signal, and says which native plugins it was running.
for (const [crash, signal, name] of [
  ['abort', 'SIGABRT', 'SIGABRT (abort)'],
  ['segfault', 'SIGSEGV', 'SIGSEGV (invalid memory access)'],
] as const) {
  test(`a native plugin's ${crash} ends the process with ${signal} and a report naming the plugin`, async (t) => {
    const child = spawnSync(
      process.execPath,
      [
        join(root, '__test__', 'children', 'native-crash.mjs'),
        fixture('panicky'),
        wasm('hostile'),
        crash,
        tempDir(),
      ],
      { encoding: 'utf8', timeout: 60_000 },
    )
    // Wasm traps before the crash stayed ordinary errors: no report for them.
    t.deepEqual(child.stdout.trim().split('\n'), [
      ...Array(3).fill('wasm trap: PLUGIN_TRAPPED'),
      'v8 wasm trap: RuntimeError',
      'chatting',
    ])
    t.is(child.signal, signal)
    const reports = child.stderr.split('\n').filter((line) => line.startsWith('modelport: fatal signal'))
    t.is(reports.length, 1, child.stderr)
    t.true(
      reports[0]!.startsWith(
        `modelport: fatal signal ${name} in a process running native plugins: crasher (`,
      ),
    )
    t.true(reports[0]!.includes(fixture('panicky')))
    t.is(reports[0]!.split(fixture('panicky')).length, 2, 'each loaded plugin is named once')
    t.true(reports[0]!.includes('cannot be contained'))
  })
}
