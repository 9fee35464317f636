#!/usr/bin/env node
// The `meshcache` command as installed (package.json "bin"). It exists before the build so npm can link it
// at install time; the compiled CLI lives in dist/ (`npm install` builds it through the `prepare` script).
//
// `meshcache sim` holds a whole mesh in one process (memory grows with peers²: ~9 GB at 10,000 peers), and
// V8's default heap limit (~4 GB) is far below what the machine has. Unless the user chose a limit
// (--max-old-space-size in NODE_OPTIONS or on node's command line), a simulation runs in a child node whose
// heap may use up to 3/4 of the machine's memory.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { getHeapStatistics } from 'node:v8'

const entry = new URL('../../dist/src/cli/bin.js', import.meta.url)
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('meshcache: the compiled CLI is missing (dist/). Run `npm install` (it builds) or `npm run build` in the package folder.\n')
  process.exit(1)
}

const args = process.argv.slice(2)
const heapChosen = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('max-old-space-size'))
const wantMb = Math.floor(totalmem() / 1024 / 1024 * 0.75)
if (args[0] === 'sim' && !heapChosen && getHeapStatistics().heap_size_limit / 1024 / 1024 < wantMb) {
  const child = spawn(process.execPath, [...process.execArgv, `--max-old-space-size=${wantMb}`, fileURLToPath(entry), ...args], { stdio: 'inherit' })
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => { child.kill(signal) })
  child.on('exit', (code, signal) => { process.exitCode = code ?? (signal !== null ? 1 : 0) })
} else {
  await import(entry.href)
}
