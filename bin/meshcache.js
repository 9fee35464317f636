#!/usr/bin/env node
// The `meshcache` command. The compiled CLI lives in dist/; `npm install` builds it (the `prepare` script).
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const entry = new URL('../dist/src/cli/main.js', import.meta.url)
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('meshcache: the compiled CLI is missing (dist/). Run `npm install` (it builds) or `npm run build` in the package folder.\n')
  process.exit(1)
}
const { main } = await import(entry.href)
process.exitCode = await main(process.argv.slice(2))
