// LiteLLM's proxy, the usual OpenAI-compatible gateway, as the gateway case's baseline: installed
// from PyPI (pinned) into the benchmark's own virtualenv (build/bench-venv), run with its defaults
// (one uvicorn worker) in front of the same upstream as modelport's gateway.
import { spawn } from 'node:child_process'
import { mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

import { freePort } from '../../scripts/free-port.mjs'
import { pythonVenv, venvBin } from '../../scripts/python-venv.mjs'
import { root } from './env.mjs'
import { cpuSecondsOf } from './processes.mjs'

// Newer releases need a `litellm-proxy` package that PyPI here lacks.
const requirement = 'litellm[proxy]==1.77.7'
const venv = join(root, 'build', 'bench-venv')
const bin = (name) => join(venvBin(venv), name)

/** Makes the virtualenv with LiteLLM's proxy in it, unless it is there already. */
export function installLiteLLM() {
  pythonVenv(venv, [requirement], "the gateway benchmark's baseline")
}

/** Starts the proxy with one model, `gpt-4o-mini`, served by `upstream` (a base URL ending in /v1). */
export async function startLiteLLM(upstream) {
  installLiteLLM()
  const dir = mkdtempSync(join(tmpdir(), 'modelport-litellm-'))
  const config = join(dir, 'config.yaml')
  writeFileSync(
    config,
    [
      'model_list:',
      '  - model_name: gpt-4o-mini',
      '    litellm_params:',
      '      model: openai/gpt-4o-mini',
      `      api_base: ${upstream}`,
      '      api_key: sk-benchmark',
      '',
    ].join('\n'),
  )
  const port = await freePort()
  const log = join(dir, 'litellm.log')
  const output = openSync(log, 'w')
  const child = spawn(bin('litellm'), ['--config', config, '--host', '127.0.0.1', '--port', String(port)], {
    cwd: dir,
    stdio: ['ignore', output, output],
    // The model cost map from the package, not fetched from GitHub (there is no network here).
    env: { ...process.env, LITELLM_LOCAL_MODEL_COST_MAP: 'True' },
  })
  let exited = null
  child.once('exit', (code, signal) => (exited = code ?? signal))
  const baseUrl = `http://127.0.0.1:${port}/v1`
  const deadline = Date.now() + 180_000
  for (;;) {
    if (exited !== null)
      throw new Error(`LiteLLM's proxy exited (${exited}) before it was ready:\n${readFileSync(log, 'utf8')}`)
    const ok = await fetch(`http://127.0.0.1:${port}/health/liveliness`).then(
      (response) => response.ok,
      () => false,
    )
    if (ok) break
    if (Date.now() > deadline) {
      child.kill()
      throw new Error(`LiteLLM's proxy was not ready in 180 s:\n${readFileSync(log, 'utf8')}`)
    }
    await sleep(250)
  }
  return {
    port,
    pid: child.pid,
    baseUrl,
    cpuSeconds: () => cpuSecondsOf(child.pid),
    stop: () => child.kill(),
  }
}
