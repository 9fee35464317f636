#!/usr/bin/env node
/**
 * The `meshcache` executable (package.json `bin`). Loads the polyfill, runs `main`, and treats a closed
 * stdout (`meshcache sim ... | head`) as the reader's choice rather than an error.
 */
import '../polyfill.js'
import { main } from './main.js'

for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0)
    else throw err
  })
}
process.exitCode = await main(process.argv.slice(2))
