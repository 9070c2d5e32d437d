import { execFile } from 'node:child_process'
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { homedir } from 'node:os'
import { join } from 'node:path'

import test, { type ExecutionContext } from 'ava'
import { PluginRegistry } from 'modelport'
import { type EmbedderPlugin, loadPlugin, type PluginExport } from 'modelport/sdk'

import { ext, failure, root, tempDir } from './helpers'

/** A server answering `<path>: <body>`; returns its port. */
async function echoServer(t: ExecutionContext): Promise<number> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => res.end(`${req.url}: ${Buffer.concat(chunks).toString()}`))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  return (server.address() as { port: number }).port
}

/** The README's "Writing a native plugin" example, built as a new user would, then used. */
test('the plugin example in the README builds and works', async (t) => {
  t.timeout(600_000)
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Writing a native plugin'))
  const source = /```rust\n([\s\S]*?)```/.exec(section)?.[1]
  t.truthy(source, 'the README has a Rust example')

  const dir = tempDir()
  mkdirSync(join(dir, 'src'))
  writeFileSync(join(dir, 'src', 'lib.rs'), source!)
  writeFileSync(
    join(dir, 'Cargo.toml'),
    `[package]
name = "echo"
version = "0.1.0"
edition = "2024"

[lib]
crate-type = ["cdylib"]

[dependencies]
modelport-plugin = { path = ${JSON.stringify(join(root, 'crates', 'plugin'))} }
serde_json = "1"

[workspace]
`,
  )
  // Same dependency versions as modelport itself (what a release of the SDK would pin).
  copyFileSync(join(root, 'Cargo.lock'), join(dir, 'Cargo.lock'))
  const targetDir = process.env['CARGO_TARGET_DIR'] ?? join(homedir(), '.cache', 'modelport', 'target')
  const built = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(
      'cargo',
      ['build', '--quiet'],
      { cwd: dir, env: { ...process.env, CARGO_TARGET_DIR: join(targetDir, 'readme-example') } },
      (error, _stdout, stderr) => resolve({ code: error ? 1 : 0, stderr }),
    )
  })
  t.is(built.code, 0, built.stderr)

  const port = await echoServer(t)
  const prefix = process.platform === 'win32' ? '' : 'lib'
  const registry = await PluginRegistry.fromConfig({
    providers: [
      {
        name: 'echo',
        path: join(targetDir, 'readme-example', 'debug', `${prefix}echo.${ext}`),
        config: { base_url: `http://127.0.0.1:${port}` },
      },
    ],
  })
  const [report] = await registry.loadAll()
  t.true(report?.ok, report?.error?.message)
  const echo = await registry.builder('echo').build()
  t.is((await echo.chat([{ role: 'user', content: 'hello plugin' }])).text, '/echo: hello plugin')
  t.is(
    (await failure(t, registry.builder('echo').parameter('base_url', null).build()))?.code,
    'CONFIG_SCHEMA_VIOLATION',
  )
})

/** The README's C example, compiled with clang against the shipped header, then used. */
test('the C plugin example in the README builds and works', async (t) => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('### The C ABI, and writing a plugin in C'))
  const source = /```c\n([\s\S]*?)```/.exec(section)?.[1]
  t.truthy(source, 'the README has a C example')
  const dir = tempDir()
  writeFileSync(join(dir, 'echo.c'), source!)
  const library = join(dir, `libecho_c.${ext}`)
  const built = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(
      'clang',
      [
        '-shared',
        '-fPIC',
        '-Wall',
        '-Werror',
        `-I${join(root, 'include')}`,
        'echo.c',
        '-lcjson',
        '-o',
        library,
      ],
      { cwd: dir },
      (error, _stdout, stderr) => resolve({ code: error ? 1 : 0, stderr }),
    )
  })
  t.is(built.code, 0, built.stderr)

  const port = await echoServer(t)
  const registry = await PluginRegistry.fromConfig({
    providers: [{ name: 'echo', path: library, config: { base_url: `http://127.0.0.1:${port}` } }],
  })
  t.teardown(() => registry.close())
  const [report] = await registry.loadAll()
  t.true(report?.ok, report?.error?.message)
  const echo = await registry.builder('echo').build()
  t.is((await echo.chat([{ role: 'user', content: 'hello from C' }])).text, '/echo: hello from C')
  t.deepEqual(await echo.listModels(), ['echo-1'])
  t.is((await failure(t, echo.embed(['x'])))?.code, 'UNSUPPORTED')
  t.is(
    (await failure(t, registry.builder('echo').parameter('base_url', null).build()))?.code,
    'CONFIG_SCHEMA_VIOLATION',
  )
})

/** The README's `modelport/sdk` example, imported as a module and loaded as a user would. */
test('the TypeScript plugin example in the README loads and works', async (t) => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Plugins in TypeScript'))
  const source = /```ts\n([\s\S]*?)```/.exec(section)?.[1]
  t.truthy(source, 'the README has a TypeScript example')
  // Inside the package (build/ is ignored by git), so `modelport/sdk` resolves to this checkout.
  mkdirSync(join(root, 'build', 'readme'), { recursive: true })
  const file = join(root, 'build', 'readme', `sdk-example-${process.pid}.ts`)
  writeFileSync(file, source!)
  const { default: pluginExport } = (await import(file)) as { default: PluginExport<EmbedderPlugin> }
  const plugin = await loadPlugin(pluginExport)
  t.is(plugin.dims(), 3)
  t.deepEqual(await plugin.embedTexts(['abc'], { runId: 'r', logger: { log: () => {} } }), [[3, 1, 0]])
})
