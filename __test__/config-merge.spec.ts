import test from 'ava'
import { PluginRegistry } from 'modelport'

import { failure, failureSync, fixture, plugin, tempFile } from './helpers'

/** The scripted plugin's `{{config}}` template shows exactly the config the plugin received. */
async function receivedConfig(staticConfig: Record<string, unknown>, fields: Record<string, unknown> = {}) {
  const registry = await PluginRegistry.fromConfig({
    providers: [
      { name: 'bot', path: plugin('scripted'), config: { default_reply: '{{config}}', ...staticConfig } },
    ],
  })
  const provider = await registry.builder('bot').parameters(fields).build()
  const answer = await provider.chat([{ role: 'user', content: 'x' }])
  const config = JSON.parse(answer.text ?? 'null') as Record<string, unknown>
  delete config['default_reply']
  return config
}

test.serial('merge order: static config, then the API key env var, then builder fields', async (t) => {
  process.env['SCRIPTED_API_KEY'] = 'from-env'
  process.env['MODELPORT_CANARY'] = 'must-not-leak'
  try {
    t.deepEqual(await receivedConfig({ model: 'static', latency_ms: 1 }), {
      model: 'static',
      latency_ms: 1,
      api_key: 'from-env',
    })
    t.deepEqual(await receivedConfig({ model: 'static' }, { model: 'builder', max_tokens: 9 }), {
      model: 'builder',
      max_tokens: 9,
      api_key: 'from-env',
    })
    t.deepEqual(await receivedConfig({ api_key: 'static-key' }), { api_key: 'static-key' })
    t.deepEqual(await receivedConfig({ api_key: 'static-key' }, { api_key: 'builder-key' }), {
      api_key: 'builder-key',
    })
  } finally {
    delete process.env['SCRIPTED_API_KEY']
    delete process.env['MODELPORT_CANARY']
  }
})

test.serial(
  'api_key_env names the key’s variable; "" reads none, not even the one a native plugin names',
  async (t) => {
    process.env['SCRIPTED_API_KEY'] = 'from-the-plugins-variable'
    process.env['MY_BOT_KEY'] = 'from-the-entrys-variable'
    try {
      const keyOf = async (api_key_env: string) => {
        const registry = await PluginRegistry.fromConfig({
          providers: [
            { name: 'bot', path: plugin('scripted'), config: { default_reply: '{{config}}' }, api_key_env },
          ],
        })
        t.is(registry.list().length, 0)
        await registry.loadAll()
        const info = registry.list()[0]
        const answer = await (await registry.builder('bot').build()).chat([{ role: 'user', content: 'x' }])
        return {
          env: info?.apiKeyEnv,
          key: (JSON.parse(answer.text ?? '{}') as { api_key?: string }).api_key,
        }
      }
      t.deepEqual(await keyOf('MY_BOT_KEY'), { env: 'MY_BOT_KEY', key: 'from-the-entrys-variable' })
      t.deepEqual(await keyOf(''), { env: undefined, key: undefined })
    } finally {
      delete process.env['SCRIPTED_API_KEY']
      delete process.env['MY_BOT_KEY']
    }
  },
)

test.serial('no other environment variable reaches the plugin’s config', async (t) => {
  process.env['MODELPORT_CANARY'] = 'canary-value-1234'
  process.env['OPENAI_API_KEY'] = 'another-plugins-key'
  try {
    const config = await receivedConfig({})
    t.deepEqual(config, {})
    t.false(JSON.stringify(config).includes('canary-value-1234'))
    t.false(JSON.stringify(config).includes('another-plugins-key'))
  } finally {
    delete process.env['MODELPORT_CANARY']
    delete process.env['OPENAI_API_KEY']
  }
})

test('a schema violation is CONFIG_SCHEMA_VIOLATION with the JSON path, before any plugin code runs', async (t) => {
  const registry = await PluginRegistry.fromConfig({
    providers: [{ name: 'panicky', path: fixture('panicky'), config: { panic_in: 'from_config' } }],
  })
  // from_config would panic; the schema check must stop the call first.
  const error = await failure(t, registry.builder('panicky').parameter('base_url', 42).build())
  t.is(error?.code, 'CONFIG_SCHEMA_VIOLATION')
  t.is(error?.jsonPath, '/base_url')
  t.is(error?.plugin, 'panicky')

  const bot = await PluginRegistry.fromConfig({ providers: [{ name: 'bot', path: plugin('scripted') }] })
  const nested = await failure(
    t,
    bot
      .builder('bot')
      .parameter('rules', [{ when_contains: 1 }])
      .build(),
  )
  t.is(nested?.jsonPath, '/rules/0/when_contains')
  const typo = await failure(t, bot.builder('bot').parameter('temprature', 1).build())
  t.is(typo?.code, 'CONFIG_SCHEMA_VIOLATION')
  t.regex(typo?.message ?? '', /temprature/)
})

test('schema violations never echo secret values', async (t) => {
  const registry = await PluginRegistry.fromConfig({ providers: [{ name: 'bot', path: plugin('scripted') }] })
  const error = await failure(t, registry.builder('bot').parameter('api_key', 987654321).build())
  t.is(error?.jsonPath, '/api_key')
  t.false(error?.message.includes('987654321'))
})

test('config errors never echo a value that may be a secret', async (t) => {
  const file = tempFile(
    'plugins.toml',
    '[[providers]]\nname = "p"\npath = "x.so"\nmax_retries = "sk-live-secret"\n',
  )
  const error = await failure(t, PluginRegistry.fromFile(file))
  t.like(error, { code: 'CONFIG_INVALID', path: file, line: 4 })
  t.false(error?.message.includes('sk-live-secret'), error?.message)
  const fromObject = await failure(
    t,
    PluginRegistry.fromConfig({
      providers: [{ name: 'p', path: 'x.so', max_retries: 'sk-live-secret' as unknown as number }],
    }),
  )
  t.is(fromObject?.code, 'CONFIG_INVALID')
  t.false(fromObject?.message.includes('sk-live-secret'), fromObject?.message)
})

test('configSchema returns the plugin’s JSON Schema', async (t) => {
  const registry = await PluginRegistry.fromConfig({
    providers: [{ name: 'openai', path: plugin('openai') }],
  })
  t.is(failureSync(t, () => registry.configSchema('openai'))?.code, 'PLUGIN_NOT_FOUND')
  await registry.loadAll()
  const schema = registry.configSchema('openai') as { properties: Record<string, unknown> }
  t.truthy(schema.properties['base_url'])
  t.truthy(schema.properties['api_key'])
  t.like(registry.list()[0], { apiKeyName: 'OPENAI_API_KEY', apiKeyEnv: 'OPENAI_API_KEY' })
})
