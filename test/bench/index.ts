/**
 * `npm run bench`: meshcache's figures printed next to an anchor measured in the same run.
 * Benchmarks are programs, not timed tests (lru-cache's benchmark/ habit). Each section is its own module.
 * Run with `--expose-gc` (the npm script does) so memory figures are taken after a full collection.
 */
import '../../src/polyfill.js'

const sections: Array<[string, () => Promise<{ run: (args: string[]) => Promise<void> }>]> = [
  ['store', async () => await import('./store.js')],
  ['ring', async () => await import('./ring.js')],
  ['peer', async () => await import('./peer.js')]
]

const only = process.argv.slice(2).filter((a) => !a.startsWith('-'))
console.log(`meshcache bench — node ${process.version}, ${process.platform}/${process.arch}, ${new Date().toISOString()}`)
for (const [name, load] of sections) {
  if (only.length > 0 && !only.includes(name)) continue
  const mod = await load()
  await mod.run(process.argv.slice(2))
}
