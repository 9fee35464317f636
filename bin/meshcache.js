#!/usr/bin/env node
// The `meshcache` command. The compiled CLI lives in dist/; `npm install` builds it (the `prepare` script).
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const entry = new URL('../dist/src/cli/main.js', import.meta.url)
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('meshcache: the compiled CLI is missing (dist/). Run `npm install` (it builds) or `npm run build` in the package folder.\n')
  process.exit(1)
}
// `meshcache sim ... | head` closes our stdout early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => { if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0); else throw err })
}
const { main } = await import(entry.href)
process.exitCode = await main(process.argv.slice(2))
