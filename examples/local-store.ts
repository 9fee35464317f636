/**
 * The local store of one namespace: set with a TTL, read, scan, watch evictions with their reasons.
 * Run: `npm run build && node dist/examples/local-store.js`.
 */
import { LocalStore, ManualClock } from '../src/index.js'

const clock = new ManualClock(Date.UTC(2026, 0, 1))
const store = new LocalStore({
  clock,
  writerId: 'example',
  maxBytes: 4096,
  onRemove: (key, reason) => { console.log(`removed ${key}: ${reason}`) }
})
const text = new TextEncoder()
store.set('session:1', text.encode('alice'), { ttlMs: 1000 })
store.set('session:2', text.encode('bob'))
console.log('get session:1 ->', new TextDecoder().decode(store.get('session:1')))
clock.advance(1500)
console.log('after 1.5 s, session:1 ->', store.get('session:1'))
for (let i = 0; i < 100; i++) store.set(`filler:${i}`, new Uint8Array(64))
console.log(store.scan({ prefix: 'session:' }))
console.log(store.stats())
