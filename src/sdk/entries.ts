// A registry config's `[[plugins]]` entries: each names a module exporting a `PluginExport` (its
// default export), loaded into the registry like `registry.register` does.
import { existsSync } from 'node:fs'
import { extname } from 'node:path'
import { pathToFileURL } from 'node:url'

import type { BindingPluginEntry } from '../../binding'
import { ModelportError } from '../errors'
import type { LoadReport } from '../types'
import { localEmbedder } from './embedders'
import { runtimePluginExport, type PluginRuntime } from './runtime-plugins'
import { PluginValidationError } from './errors'
import { sqliteVectors } from './sqlite-vectors'
import { sandboxedToolExecutor } from './tool-executor'
import type { RegisteredPlugins } from './registered'
import type { PluginExport } from './types'

/** Native libraries (exporting `plugin_sdk_factory`). */
const NATIVE_EXTENSIONS = new Set(['.so', '.dylib', '.dll'])

/** Where the plugin at `path` runs, by its extension. */
function runtimeOfPath(path: string): PluginRuntime {
  const extension = extname(path).toLowerCase()
  if (extension === '.wasm') return 'wasm'
  return NATIVE_EXTENSIONS.has(extension) ? 'native' : 'ts'
}

/** Module files this Node can import (TypeScript ones need a loader such as tsx, or Node's type stripping). */
const MODULE_EXTENSIONS = new Set(['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'])

function isPluginExport(value: unknown): value is PluginExport {
  return typeof value === 'object' && value !== null && 'manifest' in value && 'createPlugin' in value
}

/** The plugins modelport ships that a config can name (`path = "modelport:<name>"`). */
const BUILTIN: Record<string, PluginExport> = {
  'local-embedder': localEmbedder as unknown as PluginExport,
  'sandboxed-executor': sandboxedToolExecutor as unknown as PluginExport,
  'sqlite-vectors': sqliteVectors as unknown as PluginExport,
}

/** The module's `PluginExport`: its default export, or the module itself (CommonJS named exports). */
async function importExport(entry: BindingPluginEntry): Promise<PluginExport> {
  if (entry.path.startsWith('modelport:')) {
    const builtin = BUILTIN[entry.path.slice('modelport:'.length)]
    if (builtin) return builtin
    throw new ModelportError({
      code: 'PLUGIN_NOT_FOUND',
      plugin: entry.name,
      message: `modelport ships no plugin ${entry.path} (it ships: ${Object.keys(BUILTIN)
        .map((name) => `modelport:${name}`)
        .join(', ')})`,
    })
  }
  const fail = (message: string, cause?: unknown) =>
    new ModelportError(
      {
        code: 'PLUGIN_LOAD_FAILED',
        plugin: entry.name,
        path: entry.path,
        message,
        causes: cause instanceof Error ? [cause.message] : [],
      },
      cause === undefined ? undefined : { cause },
    )
  const runtime = runtimeOfPath(entry.path)
  if (runtime === 'ts' && !MODULE_EXTENSIONS.has(extname(entry.path).toLowerCase())) {
    throw new ModelportError({
      code: 'UNSUPPORTED',
      plugin: entry.name,
      path: entry.path,
      message: `a ${entry.kind} plugin is a JavaScript or TypeScript module (${[...MODULE_EXTENSIONS].join(', ')}), a native library (${[...NATIVE_EXTENSIONS].join(', ')}) or an Extism module (.wasm)`,
    })
  }
  if (!existsSync(entry.path)) throw fail('file not found')
  if (runtime !== 'ts') return runtimePluginExport(entry.name, entry.path, runtime)
  let module: Record<string, unknown>
  try {
    module = (await import(pathToFileURL(entry.path).href)) as Record<string, unknown>
  } catch (error) {
    throw fail('the module would not load', error)
  }
  const candidate = [
    module['default'],
    (module['default'] as Record<string, unknown> | undefined)?.['default'],
    module,
  ].find(isPluginExport)
  if (!candidate) {
    throw new PluginValidationError({
      plugin: entry.name,
      path: entry.path,
      message: 'the module exports no { manifest, createPlugin } (as its default export)',
    })
  }
  return candidate
}

/** Loads every entry not yet registered; one failure does not stop the others. */
export async function loadEntries(
  entries: BindingPluginEntry[],
  registered: RegisteredPlugins,
  providerNames: Set<string>,
): Promise<LoadReport[]> {
  return Promise.all(
    entries.map(async (entry): Promise<LoadReport> => {
      const report = { name: entry.name, kind: runtimeOfPath(entry.path), path: entry.path }
      if (registered.has(entry.name)) return { ...report, ok: true }
      try {
        const pluginExport = await importExport(entry)
        const type = (pluginExport.manifest as { type?: unknown } | undefined)?.type
        if (type !== entry.kind) {
          throw new PluginValidationError({
            plugin: entry.name,
            path: entry.path,
            message: `the config says kind '${entry.kind}', the plugin's manifest says type '${String(type)}'`,
            jsonPath: 'kind',
          })
        }
        const options = {
          name: entry.name,
          ...(entry.initTimeoutMs != null && { initTimeoutMs: entry.initTimeoutMs }),
          ...(entry.lifecycleTimeoutMs != null && { lifecycleTimeoutMs: entry.lifecycleTimeoutMs }),
        }
        await registered.register(pluginExport, entry.config, options, (name) => providerNames.has(name))
        return { ...report, ok: true }
      } catch (error) {
        const failure =
          error instanceof ModelportError
            ? error
            : new ModelportError({ code: 'PLUGIN_LOAD_FAILED', plugin: entry.name, message: String(error) })
        return { ...report, ok: false, error: failure }
      }
    }),
  )
}
