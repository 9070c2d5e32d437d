// The HTTP layer alone, on Node's http and on hyper (benchmark/hyper-baseline): servers that read a
// request's body and answer with fixed bytes. The gateway case runs both beside the gateway to show
// what its HTTP server costs, and what moving it to Rust could save at most.
import { createServer } from 'node:http'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { run, targetDir } from '../../scripts/build.mjs'
import { root } from './env.mjs'
import { announce, startListening } from './processes.mjs'

const hyperDir = join(root, 'benchmark', 'hyper-baseline')
const hyperTargetDir = `${targetDir}-bench`

/** Builds the hyper server (release); returns its executable. */
export function buildHyperServer() {
  run('cargo', [
    'build',
    '--release',
    '--locked',
    '--manifest-path',
    join(hyperDir, 'Cargo.toml'),
    '--target-dir',
    hyperTargetDir,
  ])
  const exe = process.platform === 'win32' ? '.exe' : ''
  return join(hyperTargetDir, 'release', `modelport-bench-hyper-baseline${exe}`)
}

function serveNode(answer) {
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.length })
      res.end(answer)
    })
  })
  server.listen(0, '127.0.0.1', () => announce(server.address().port))
}

/** Node's http answering `answer` (a string) to every request, in a process of its own. */
export async function startNodeFixed(answer) {
  const server = await startListening(process.execPath, [fileURLToPath(import.meta.url), answer])
  return { ...server, baseUrl: `http://127.0.0.1:${server.port}/v1` }
}

/** hyper answering `answer` to every request. */
export async function startHyperFixed(executable, answer) {
  const server = await startListening(executable, [], { input: answer })
  return { ...server, baseUrl: `http://127.0.0.1:${server.port}/v1` }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) serveNode(Buffer.from(process.argv[2]))
