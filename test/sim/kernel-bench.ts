/**
 * Kernel benchmark (a program, not a test): the synthetic load of src/sim/load.ts at full scale, timed
 * with the wall clock. Build and run:
 *   npx tsc --outDir /tmp/mcb --module NodeNext --moduleResolution NodeNext --target ES2023 --skipLibCheck test/sim/kernel-bench.ts
 *   node /tmp/mcb/test/sim/kernel-bench.js [hosts] [virtualSeconds] [intervalMs] [traceMessages]
 */
import { runSyntheticLoad } from '../../src/sim/load.js'

const hosts = Number(process.argv[2] ?? 1000)
const seconds = Number(process.argv[3] ?? 600)
const intervalMs = Number(process.argv[4] ?? 100)
const traceMessages = process.argv[5] === 'trace'

const t0 = performance.now()
const cpu0 = process.cpuUsage()
const r = runSyntheticLoad({ hosts, durationMs: seconds * 1000, intervalMs, sim: { seed: 1, traceMessages } })
const wallMs = performance.now() - t0
const cpu = process.cpuUsage(cpu0)
const cpuMs = (cpu.user + cpu.system) / 1000
const mem = process.memoryUsage()
console.log(JSON.stringify({
  hosts,
  virtualSeconds: seconds,
  intervalMs,
  traceMessages,
  events: r.events,
  delivered: r.stats.delivered,
  wallMs: Math.round(wallMs),
  cpuMs: Math.round(cpuMs),
  eventsPerSecond: Math.round(r.events / (wallMs / 1000)),
  speedup: Math.round((seconds * 1000) / wallMs * 10) / 10,
  eventsPerCpuSecond: Math.round(r.events / (cpuMs / 1000)),
  heapUsedMB: Math.round(mem.heapUsed / 1048576),
  traceHash: r.traceHash
}))
