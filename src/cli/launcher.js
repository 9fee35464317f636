#!/usr/bin/env node
// The `meshcache` command as installed (package.json "bin"). It exists before the build so npm can link it
// at install time; the compiled CLI lives in dist/ (`npm install` builds it through the `prepare` script).
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const entry = new URL('../../dist/src/cli/bin.js', import.meta.url)
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('meshcache: the compiled CLI is missing (dist/). Run `npm install` (it builds) or `npm run build` in the package folder.\n')
  process.exit(1)
}
await import(entry.href)
