// Debian packages the build and the tests need, installed with apt-get (as root, or through
// passwordless sudo) when they are missing.
import { spawnSync } from 'node:child_process'

import { run } from './build.mjs'

/** Whether apt knows a package `name` (has a candidate version for it). */
export function aptHas(name) {
  return /Candidate: (?!\(none\))/.test(
    spawnSync('apt-cache', ['policy', name], { encoding: 'utf8' }).stdout ?? '',
  )
}

/** Whether the Debian package `name` is installed. */
export function aptInstalled(name) {
  const status = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' }).stdout ?? ''
  return status.includes('install ok installed')
}

/** Installs the packages `missing` names; `why` says what needs them when it cannot. */
export function aptInstall(missing, why) {
  if (missing.length === 0) return
  const root = process.getuid?.() === 0
  const sudo = !root && spawnSync('sudo', ['-n', 'true']).status === 0
  if (!root && !sudo)
    throw new Error(
      `${why} need the Debian packages ${missing.join(', ')}; install them ` +
        `(apt-get install ${missing.join(' ')}) or run this as root`,
    )
  const apt = (args) =>
    root ? run('apt-get', args, { rust: false }) : run('sudo', ['-n', 'apt-get', ...args], { rust: false })
  console.log(`\n▶ apt-get install ${missing.join(' ')}`)
  apt(['update', '-qq'])
  apt(['install', '-y', '-qq', '--no-install-recommends', ...missing])
}
