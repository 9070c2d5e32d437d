import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import test from 'ava'
import { PluginRegistry } from 'modelport'

import { ext, failure, failureSync, plugin, tempDir, tempFile } from './helpers'

const formats: Record<string, string> = {
  'plugins.toml': `
[[providers]]
name = "bot"
path = "${plugin('scripted')}"
[providers.config]
default_reply = "toml says {{input}}"
`,
  'plugins.json': JSON.stringify({
    providers: [{ name: 'bot', path: plugin('scripted'), config: { default_reply: 'json says {{input}}' } }],
  }),
  'plugins.yaml': `providers:\n  - name: bot\n    path: ${plugin('scripted')}\n    config:\n      default_reply: "yaml says {{input}}"\n`,
  'plugins.yml': `providers:\n  - name: bot\n    path: ${plugin('scripted')}\n    config:\n      default_reply: "yml says {{input}}"\n`,
}

for (const [file, text] of Object.entries(formats)) {
  test(`loads a registry from ${file}`, async (t) => {
    const registry = await PluginRegistry.fromFile(tempFile(file, text))
    const [report] = await registry.loadAll()
    t.true(report?.ok)
    t.is(report?.kind, 'native')
    const bot = await registry.builder('bot').build()
    const answer = await bot.chat([{ role: 'user', content: 'hi' }])
    t.is(answer.text, `${file.split('.')[1]} says hi`)
    await registry.close()
  })
}

test('relative plugin paths resolve against the config file folder, extension optional', async (t) => {
  const dir = tempDir()
  mkdirSync(join(dir, 'plugins'))
  copyFileSync(plugin('scripted'), join(dir, 'plugins', `scripted.${ext}`))
  writeFileSync(
    join(dir, 'plugins.json'),
    JSON.stringify({ providers: [{ name: 'bot', path: 'plugins/scripted' }] }),
  )
  const registry = await PluginRegistry.fromFile(join(dir, 'plugins.json'))
  const [report] = await registry.loadAll()
  t.true(report?.ok, report?.error?.message)
  t.is(registry.list()[0]?.path, join(dir, 'plugins', `scripted.${ext}`))
})

test('a TOML syntax error is CONFIG_INVALID with path, line and column', async (t) => {
  const path = tempFile('plugins.toml', '[[providers]]\nname = "a"\npath = \n')
  const error = await failure(t, PluginRegistry.fromFile(path))
  t.is(error?.code, 'CONFIG_INVALID')
  t.is(error?.path, path)
  t.is(error?.line, 3)
  t.is(typeof error?.column, 'number')
  t.regex(error?.message ?? '', /:3:\d+\)/)
})

test('JSON and YAML syntax errors carry line and column too', async (t) => {
  const json = await failure(t, PluginRegistry.fromFile(tempFile('p.json', '{\n  "providers": [,]\n}')))
  t.is(json?.code, 'CONFIG_INVALID')
  t.deepEqual([json?.line, json?.column], [2, 17])
  const yaml = await failure(
    t,
    PluginRegistry.fromFile(tempFile('p.yaml', 'providers:\n  - name: a\n   path: [\n')),
  )
  t.is(yaml?.code, 'CONFIG_INVALID')
  t.true((yaml?.line ?? 0) > 0)
})

test('unknown keys, duplicate names, unknown formats and missing files are CONFIG_INVALID', async (t) => {
  const typo = await failure(
    t,
    PluginRegistry.fromFile(tempFile('p.toml', '[[providers]]\nname="a"\npath="x"\nconfgi={}\n')),
  )
  t.is(typo?.code, 'CONFIG_INVALID')
  t.regex(typo?.message ?? '', /confgi/)
  const duplicate = await failure(
    t,
    PluginRegistry.fromConfig({
      providers: [
        { name: 'a', path: 'x' },
        { name: 'a', path: 'y' },
      ],
    }),
  )
  t.is(duplicate?.code, 'CONFIG_INVALID')
  t.is(duplicate?.plugin, 'a')
  const destination = await failure(
    t,
    PluginRegistry.fromConfig({
      providers: [{ name: 'w', path: 'w.wasm', allowed_hosts: ['api.example.com:https'] }],
    }),
  )
  t.like(destination, { code: 'CONFIG_INVALID', plugin: 'w' })
  t.regex(destination?.message ?? '', /allowed_hosts: "api.example.com:https" is not a destination/)
  t.is((await failure(t, PluginRegistry.fromFile(tempFile('plugins.ini', 'x'))))?.code, 'CONFIG_INVALID')
  t.is((await failure(t, PluginRegistry.fromFile('/nonexistent/plugins.toml')))?.code, 'CONFIG_INVALID')
})

test('an unknown provider name is PLUGIN_NOT_FOUND and lists the configured ones', async (t) => {
  const registry = await PluginRegistry.fromConfig({ providers: [{ name: 'bot', path: plugin('scripted') }] })
  const error = await failure(t, registry.builder('nope').build())
  t.is(error?.code, 'PLUGIN_NOT_FOUND')
  t.regex(error?.message ?? '', /bot/)
  t.is(failureSync(t, () => registry.configSchema('nope'))?.code, 'PLUGIN_NOT_FOUND')
})

test('oci:// and https:// paths are reported as UNSUPPORTED without stopping the others', async (t) => {
  const registry = await PluginRegistry.fromConfig({
    providers: [
      { name: 'remote', path: 'oci://ghcr.io/example/plugin:1' },
      { name: 'web', path: 'https://example.com/plugin.so' },
      { name: 'bot', path: plugin('scripted') },
    ],
    oci: { insecure_skip_signature: false },
  })
  const reports = await registry.loadAll()
  t.deepEqual(
    reports.map((r) => [r.name, r.ok, r.error?.code]),
    [
      ['remote', false, 'UNSUPPORTED'],
      ['web', false, 'UNSUPPORTED'],
      ['bot', true, undefined],
    ],
  )
  t.deepEqual(
    registry.list().map((p) => p.name),
    ['bot'],
  )
})
