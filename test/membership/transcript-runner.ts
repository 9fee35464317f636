/**
 * Golden transcripts for membership scenarios (etcd raft's datadriven style): a file is a list of blocks,
 *
 *   <command>
 *   ----
 *   <expected output, one line per member event that happened during the command, or the check result>
 *   <blank line>
 *
 * run on the simulator with `MembershipNode`s named n1, n2, … (n1 is the seed everyone joins through).
 * Lines starting with `#` outside a block are comments. Commands:
 *
 *   seed S                 set the simulation seed (first command only)
 *   options {json}         MembershipNode options for the nodes added afterwards
 *   join N                 add N nodes (they start at once; all but n1 join through n1)
 *   tick P                 run P protocol periods (probeIntervalMs each)
 *   crash I | restart I    crash or restart node I
 *   pause I MS             stall node I's event loop for MS milliseconds
 *   leave I                node I leaves gracefully
 *   partition 1,2 | 3,4    split the network into groups
 *   heal                   remove partitions
 *   loss P                 set the default loss probability of every link
 *   expect dead I | expect alive I | expect left I | expect suspect I
 *                          every live node other than I sees I in that state
 *   expect members I: 1,3  node I sees exactly these members alive or suspect
 *   expect converged       every live node's checksum is the same
 *
 * An expectation that does not hold fails the test outright (a rewritten snapshot cannot hide it).
 * Event lines read `+12.345s n1: n3 suspect (probe-failed, from n1)`: time since the script started, the
 * node that saw it, the member, the change and its reason. Set UPDATE_TRANSCRIPTS=1 to rewrite the files
 * after reading the diff.
 */
import type { MemberState } from '../../src/membership/types.js'
import { SimMesh } from '../node/sim-mesh.js'
import type { NodeOptions } from '../node/sim-mesh.js'

export interface Block { command: string, expected: string }

export function parseTranscript (text: string): { header: string[], blocks: Block[] } {
  const lines = text.split('\n')
  const header: string[] = []
  const blocks: Block[] = []
  let i = 0
  while (i < lines.length) {
    const line = lines[i]
    if (line.trim() === '' || line.startsWith('#')) {
      if (blocks.length === 0) header.push(line)
      i++
      continue
    }
    const command = line
    if (lines[i + 1] !== '----') throw new Error(`transcript line ${i + 2}: expected ---- after the command "${command}"`)
    i += 2
    const out: string[] = []
    while (i < lines.length && lines[i] !== '') out.push(lines[i++])
    blocks.push({ command, expected: out.join('\n') })
  }
  while (header.length > 0 && header[header.length - 1].trim() === '') header.pop()
  return { header, blocks }
}

export function formatTranscript (header: string[], blocks: Block[]): string {
  const parts = header.length > 0 ? [header.join('\n') + '\n'] : []
  for (const b of blocks) parts.push(`${b.command}\n----\n${b.expected}${b.expected === '' ? '' : '\n'}`)
  return parts.join('\n')
}

const node = (arg: string): string => `n${Number(arg)}`

/** Runs the commands of a transcript and returns the actual output of each block. */
export function runTranscript (blocks: Block[]): Block[] {
  let mesh: SimMesh | undefined
  let seed = 1
  let options: NodeOptions = {}
  let startMs = 0
  let seen = 0
  const need = (): SimMesh => {
    if (mesh === undefined) {
      mesh = new SimMesh(seed, options)
      startMs = mesh.sim.now()
    }
    return mesh
  }
  const period = (): number => {
    const m = need()
    const any = m.nodes.values().next().value
    return any?.config.probeIntervalMs ?? 1000
  }
  const drainEvents = (): string[] => {
    const m = need()
    const out = m.events.slice(seen).map(({ at, e }) => {
      const t = ((e.atMs - startMs) / 1000).toFixed(3)
      const from = e.source !== undefined && e.source !== e.member.id && e.source !== at ? `, from ${e.source}` : ''
      return `+${t}s ${at}: ${e.member.id} ${e.type} (${e.reason}${from}) inc=${e.member.incarnation}`
    })
    seen = m.events.length
    return out
  }
  const results: Block[] = []
  for (const block of blocks) {
    const [verb, ...rest] = block.command.trim().split(/\s+/)
    const arg = rest.join(' ')
    let out: string[] = []
    switch (verb) {
      case 'seed':
        if (mesh !== undefined) throw new Error('seed must come before anything that starts the simulation')
        seed = Number(arg)
        break
      case 'options':
        options = JSON.parse(arg) as NodeOptions
        if (mesh !== undefined) throw new Error('options must come before join')
        break
      case 'join':
        need().add(Number(arg))
        out = drainEvents()
        break
      case 'tick':
        need().sim.runFor(Number(arg) * period())
        out = drainEvents()
        break
      case 'crash': need().sim.crash(node(arg)); out = drainEvents(); break
      case 'restart': need().sim.restart(node(arg)); out = drainEvents(); break
      case 'pause': {
        const [who, ms] = rest
        need().sim.pause(node(who), Number(ms))
        out = drainEvents()
        break
      }
      case 'leave': {
        const m = need()
        void m.node(node(arg)).leave()
        out = drainEvents()
        break
      }
      case 'partition':
        need().sim.network.partition(arg.split('|').map((g) => g.split(',').map((x) => node(x.trim()))))
        break
      case 'heal': need().sim.network.heal(); break
      case 'loss': need().sim.network.setDefaults({ loss: Number(arg) }); break
      case 'expect': out = [expectation(need(), rest)]; break
      default: throw new Error(`unknown transcript command "${block.command}"`)
    }
    results.push({ command: block.command, expected: out.join('\n') })
  }
  return results
}

function expectation (mesh: SimMesh, args: string[]): string {
  const [what, ...rest] = args
  const live = mesh.liveAddresses()
  if (what === 'converged') {
    const sums = new Set(live.map((a) => mesh.node(a).checksum()))
    if (sums.size !== 1) throw new Error(`expected every live node's checksum to agree, got ${sums.size} different ones`)
    return `ok: ${live.length} live nodes agree (checksum ${[...sums][0]})`
  }
  if (what === 'members') {
    const viewer = node(rest[0].replace(':', ''))
    const want = rest.slice(1).join('').split(',').map((x) => node(x.trim())).sort()
    const got = mesh.node(viewer).members().filter((m) => m.state === 'alive' || m.state === 'suspect').map((m) => m.id).sort()
    if (got.join(',') !== want.join(',')) throw new Error(`expected ${viewer} to see members ${want.join(',')}, it sees ${got.join(',')}`)
    return `ok: ${viewer} sees ${got.join(',')}`
  }
  const states: MemberState[] = ['alive', 'suspect', 'dead', 'left']
  if (states.includes(what as MemberState)) {
    const subject = node(rest[0])
    const viewers = live.filter((a) => a !== subject)
    const wrong = viewers.filter((a) => mesh.node(a).member(subject)?.state !== what)
    if (wrong.length > 0) {
      throw new Error(`expected every live node to see ${subject} ${what}; ${wrong.map((a) => `${a} sees ${mesh.node(a).member(subject)?.state ?? 'nothing'}`).join(', ')}`)
    }
    return `ok: ${viewers.join(',')} see ${subject} ${what}`
  }
  throw new Error(`unknown expectation "expect ${args.join(' ')}"`)
}
