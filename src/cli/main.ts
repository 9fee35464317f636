/**
 * The `meshcache` command line. Each subcommand lives in its own module; this file only dispatches.
 * `main(argv)` returns the exit code instead of calling `process.exit`, so tests can call it in-process.
 */
import '../polyfill.js'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface CliIo {
  out: (text: string) => void
  err: (text: string) => void
}

const defaultIo: CliIo = {
  out: (t) => { process.stdout.write(t) },
  err: (t) => { process.stderr.write(t) }
}

/** The package version, read from the nearest package.json above this module (works from src/ and dist/). */
export function version (): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const candidate = join(dir, 'package.json')
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string, version: string }
      if (pkg.name === 'meshcache') return pkg.version
    }
    const parent = dirname(dir)
    if (parent === dir) return '0.0.0-unknown'
    dir = parent
  }
}

export const HELP = `meshcache — a peer-to-peer cache mesh for Node.js

Usage:
  meshcache start [options]          run a mesh peer (not in this release: see the README's status table)
  meshcache sim SCENARIO [options]   run a deterministic simulation of a whole mesh
  meshcache get|set|del|members|ring|stats ... [--http URL]   talk to a running peer (later release)
  meshcache help                     this text
  meshcache --version                the version

Run 'meshcache sim --help' for the simulator's options.
`

export async function main (argv: string[], io: CliIo = defaultIo): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      io.out(HELP)
      return 0
    case 'version':
    case '--version':
    case '-v':
      io.out(version() + '\n')
      return 0
    case 'start':
    case 'get':
    case 'set':
    case 'del':
    case 'members':
    case 'ring':
    case 'stats':
      io.err(`meshcache ${command}: not implemented in ${version()} yet. This release ships the store, the ring, the ` +
        'simulator and membership; run `meshcache sim membership` to see the mesh protocol at work.\n')
      return 1
    case 'sim': {
      const { simCommand } = await import('./sim.js')
      return await simCommand(rest, io)
    }
    default:
      io.err(`meshcache: unknown command '${command}'. Run 'meshcache help' for the list of commands.\n`)
      return 2
  }
}
