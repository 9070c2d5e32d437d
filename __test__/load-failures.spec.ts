import { readFileSync } from 'node:fs'

import test from 'ava'
import { ModelportError, PluginRegistry, type LoadReport } from 'modelport'

import { failure, fixture, plugin, tempDir, tempFile, wasm } from './helpers'

async function loadOne(path: string): Promise<LoadReport> {
  const registry = await PluginRegistry.fromConfig({ providers: [{ name: 'p', path }] })
  const [report] = await registry.loadAll()
  return report!
}

function elfWithMachine(machine: number): Buffer {
  const bytes = Buffer.from(readFileSync(plugin('scripted')))
  bytes.writeUInt16LE(machine, 18)
  return bytes
}

const broken: Array<[string, () => string, RegExp]> = [
  ['a missing file', () => '/nonexistent/plugin.so', /file not found/],
  ['an empty file', () => tempFile('empty.so', ''), /empty/],
  ['a text file', () => tempFile('text.so', 'this is not a library\n'.repeat(10)), /not a shared library/],
  [
    'a truncated library',
    () => tempFile('truncated.so', readFileSync(plugin('scripted')).subarray(0, 100)),
    /truncated/,
  ],
  // RISC-V: foreign on every host the suite runs on (x64, and arm64 under `npm run test:target`).
  ['a library for another architecture', () => tempFile('riscv.so', elfWithMachine(243)), /built for riscv/],
  [
    'a library without a factory symbol',
    () => fixture('no_factory'),
    /neither plugin_factory nor plugin_http_factory/,
  ],
  ['a factory returning null', () => fixture('null_factory'), /plugin_http_factory returned no factory/],
]

for (const [what, path, reason] of broken) {
  test(`${what} is PLUGIN_LOAD_FAILED with the path and the reason`, async (t) => {
    const file = path()
    const report = await loadOne(file)
    t.false(report.ok)
    t.is(report.error?.code, 'PLUGIN_LOAD_FAILED')
    t.is(report.error?.plugin, 'p')
    t.is(report.error?.path, file)
    t.regex(report.error?.message ?? '', reason)
  })
}

test('a plugin without an ABI descriptor is ABI_MISMATCH', async (t) => {
  const report = await loadOne(fixture('no_descriptor'))
  t.is(report.error?.code, 'ABI_MISMATCH')
  t.regex(report.error?.message ?? '', /no ABI descriptor/)
  t.regex(report.error?.message ?? '', /the host supports ABI version 1\b/)
})

test("a plugin built for modelport-plugin 0.1's Rust-only ABI is ABI_MISMATCH naming both versions", async (t) => {
  const report = await loadOne(fixture('abi_old'))
  t.is(report.error?.code, 'ABI_MISMATCH')
  t.regex(
    report.error?.message ?? '',
    /implements ABI version 0 \(modelport-plugin 0\.1's Rust-only ABI\); the host supports ABI version 1 \(rebuild it/,
  )
  t.is(report.error?.path, fixture('abi_old'))
})

test('a plugin written for a future ABI version is ABI_MISMATCH naming both versions', async (t) => {
  const report = await loadOne(fixture('abi_future'))
  t.is(report.error?.code, 'ABI_MISMATCH')
  t.regex(
    report.error?.message ?? '',
    /implements ABI version 99, built with modelport-plugin 9\.0\.0; the host supports ABI version 1 \(upgrade modelport/,
  )
})

test('a factory that panics is PLUGIN_PANICKED, with the panic message and location', async (t) => {
  const report = await loadOne(fixture('panic_in_factory'))
  t.is(report.error?.code, 'PLUGIN_PANICKED')
  t.regex(report.error?.message ?? '', /fixture panic in the factory \(at .*panic_in_factory\.rs:\d+:\d+\)/)
})

test('one bad plugin does not stop the others', async (t) => {
  const registry = await PluginRegistry.fromConfig({
    providers: [
      { name: 'broken', path: fixture('null_factory') },
      { name: 'bot', path: plugin('scripted') },
      { name: 'other', path: fixture('abi_old') },
      { name: 'openai', path: plugin('openai') },
    ],
  })
  const reports = await registry.loadAll()
  t.deepEqual(
    reports.map((r) => [r.name, r.ok]),
    [
      ['broken', false],
      ['bot', true],
      ['other', false],
      ['openai', true],
    ],
  )
  t.deepEqual(
    registry.list().map((p) => p.name),
    ['bot', 'openai'],
  )
  t.is(
    (await (await registry.builder('bot').build()).chat([{ role: 'user', content: 'still here' }])).text,
    'still here',
  )
  // A failed plugin fails again, with the same code, when used.
  t.is((await failure(t, registry.builder('broken').build()))?.code, 'PLUGIN_LOAD_FAILED')
})

test('Wasm sandbox keys on a native plugin are CONFIG_INVALID (a native plugin runs unsandboxed)', async (t) => {
  const registry = await PluginRegistry.fromConfig({
    providers: [{ name: 'p', path: plugin('scripted'), allowed_hosts: ['example.com'], timeout_ms: 1000 }],
  })
  const [report] = await registry.loadAll()
  t.is(report?.error?.code, 'CONFIG_INVALID')
  t.regex(report?.error?.message ?? '', /allowed_hosts, timeout_ms only apply to Wasm plugins/)
})

test.serial(
  "a slow load (a Wasm start-up that runs to its timeout) holds up no other plugin's load",
  async (t) => {
    const registry = await PluginRegistry.fromConfig({
      cache_dir: tempDir(),
      providers: [
        // Registries take `.wasm` files; Extism reads the WAT text inside too.
        {
          name: 'slow',
          path: tempFile('start_loop.wasm', readFileSync(wasm('start_loop'))),
          timeout_ms: 3000,
        },
        { name: 'fast', path: plugin('scripted'), config: { default_reply: 'hi' } },
      ],
    })
    t.teardown(() => registry.close())
    const events: string[] = []
    const slow = registry
      .builder('slow')
      .build()
      .then(
        () => events.push('slow loaded'),
        (error: ModelportError) => events.push(`slow ${error.code}`),
      )
    await registry.builder('fast').build()
    events.push('fast loaded')
    await slow
    t.deepEqual(events, ['fast loaded', 'slow PLUGIN_TIMEOUT'])
    // loadAll loads them side by side and reports in config order.
    t.deepEqual(
      (await registry.loadAll()).map((report) => [report.name, report.ok]),
      [
        ['slow', false],
        ['fast', true],
      ],
    )
  },
)
