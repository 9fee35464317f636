import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidOptionError } from '../../src/errors.js'
import {
  checkNamespaceName, DEFAULT_NAMESPACE_MAX_BYTES, DEFAULT_REPLICAS, definitionDiff, describeNamespace, majority,
  MAX_NAMESPACE_NAME_BYTES, MAX_REPLICAS, resolveNamespace, sameDefinition, utf8Bytes, type NamespaceInit
} from '../../src/replication/namespace.js'

/** Resolving `init` throws an InvalidOptionError whose message matches every pattern. */
function expectRefused (init: unknown, ...patterns: RegExp[]): void {
  let caught: unknown
  try {
    resolveNamespace(init as NamespaceInit)
  } catch (e) {
    caught = e
  }
  expect(caught).toBeInstanceOf(InvalidOptionError)
  const err = caught as InvalidOptionError
  expect(err.code).toBe('ERR_INVALID_OPTION')
  for (const p of patterns) expect(err.message).toMatch(p)
}

describe('majority', () => {
  it.each([
    [1, 1], [2, 2], [3, 2], [4, 3], [5, 3], [6, 4], [7, 4], [15, 8], [16, 9]
  ])('majority(%i) = %i', (n, m) => {
    expect(majority(n)).toBe(m)
  })

  it('two majorities of the same n always share a member, and a smaller count would not', () => {
    for (let n = 1; n <= MAX_REPLICAS; n++) {
      expect(2 * majority(n)).toBeGreaterThan(n)
      expect(2 * (majority(n) - 1)).toBeLessThanOrEqual(n)
    }
  })
})

describe('resolveNamespace defaults', () => {
  it('a bare name is async, 3 replicas, majority quorums, primary reads, no ttl, 64 MiB, w-tinylfu', () => {
    expect(resolveNamespace({ name: 'sessions' })).toEqual({
      name: 'sessions',
      replication: 'async',
      replicas: DEFAULT_REPLICAS,
      writeQuorum: 2,
      readQuorum: 2,
      ttlMs: 0,
      maxBytes: DEFAULT_NAMESPACE_MAX_BYTES,
      eviction: 'w-tinylfu',
      readMode: 'primary'
    })
  })

  it.each([
    ['async', 'primary'],
    ['sync', 'quorum']
  ] as const)('replication %s reads in mode %s unless told otherwise', (replication, readMode) => {
    expect(resolveNamespace({ name: 'n', replication }).readMode).toBe(readMode)
    expect(resolveNamespace({ name: 'n', replication, readMode: 'local' }).readMode).toBe('local')
  })

  it.each(Array.from({ length: MAX_REPLICAS }, (_, i) => i + 1))('with %i replicas both quorums default to its majority', (replicas) => {
    const d = resolveNamespace({ name: 'n', replication: 'sync', replicas })
    expect(d.writeQuorum).toBe(majority(replicas))
    expect(d.readQuorum).toBe(majority(replicas))
    expect(d.writeQuorum + d.readQuorum).toBeGreaterThan(replicas)
  })

  it('keeps explicit values, including quorums weaker than a majority', () => {
    const init: NamespaceInit = {
      name: 'n', replication: 'sync', replicas: 5, writeQuorum: 1, readQuorum: 5, ttlMs: 30_000, maxBytes: 4096, eviction: 'lru', readMode: 'primary'
    }
    expect(resolveNamespace(init)).toEqual(init)
  })

  it('returns a frozen definition', () => {
    const d = resolveNamespace({ name: 'n' })
    expect(Object.isFrozen(d)).toBe(true)
  })

  it('resolving the same declaration twice gives the same definition', () => {
    expect(sameDefinition(resolveNamespace({ name: 'n', replicas: 5 }), resolveNamespace({ name: 'n', replicas: 5 }))).toBe(true)
  })
})

describe('resolveNamespace validation names the option', () => {
  it.each([
    ['not an object', null, [/a namespace is an object/]],
    ['unknown key', { name: 'n', replica: 3 }, [/unknown option "replica"/, /known: name, replication, replicas/]],
    ['unknown replication', { name: 'n', replication: 'eventual' }, [/replication must be one of async, sync, strong/, /"eventual"/]],
    ['strong is not in this release', { name: 'n', replication: 'strong' }, [/"n"/, /replication 'strong'/, /use 'sync'/]],
    ['zero replicas', { name: 'n', replicas: 0 }, [/replicas must be an integer from 1 to 16, got 0/]],
    ['too many replicas', { name: 'n', replicas: MAX_REPLICAS + 1 }, [/replicas must be an integer from 1 to 16, got 17/]],
    ['fractional replicas', { name: 'n', replicas: 2.5 }, [/replicas must be an integer/]],
    ['replicas as a string', { name: 'n', replicas: '3' }, [/replicas must be an integer/]],
    ['writeQuorum over replicas', { name: 'n', replicas: 3, writeQuorum: 4 }, [/writeQuorum must be an integer from 1 to replicas \(3\), got 4/, /majority \(2\)/]],
    ['readQuorum over replicas', { name: 'n', replicas: 3, readQuorum: 4 }, [/readQuorum must be an integer from 1 to replicas \(3\), got 4/]],
    ['writeQuorum zero', { name: 'n', writeQuorum: 0 }, [/writeQuorum must be/]],
    ['readQuorum fractional', { name: 'n', readQuorum: 1.5 }, [/readQuorum must be/]],
    ['negative ttlMs', { name: 'n', ttlMs: -1 }, [/ttlMs must be a whole number of milliseconds/]],
    ['fractional ttlMs', { name: 'n', ttlMs: 0.5 }, [/ttlMs must be/]],
    ['maxBytes under 1024', { name: 'n', maxBytes: 1000 }, [/maxBytes must be a whole number of bytes >= 1024, got 1000/]],
    ['unknown eviction', { name: 'n', eviction: 'lfu' }, [/eviction must be one of w-tinylfu, lru, got "lfu"/]],
    ['unknown readMode', { name: 'n', readMode: 'any' }, [/readMode must be one of local, primary, quorum, got "any"/]],
    ['reserved prefix', { name: '_meshcache.catalog' }, [/_meshcache are reserved/, /"_meshcache.catalog"/]],
    ['reserved prefix, bare', { name: '_meshcache' }, [/reserved/]],
    ['missing name', { replicas: 3 }, [/namespace name must be a non-empty string/]],
    ['empty name', { name: '' }, [/namespace name must be a non-empty string/]],
    ['name not a string', { name: 7 }, [/namespace name must be a non-empty string, got 7/]],
    ['name over 256 bytes', { name: 'x'.repeat(MAX_NAMESPACE_NAME_BYTES + 1) }, [/namespace name is 257 bytes of UTF-8, over the limit of 256/]],
    ['lone high surrogate', { name: 'a\ud800b' }, [/namespace name/, /lone surrogate/]],
    ['lone low surrogate', { name: '\udc00' }, [/namespace name/, /lone surrogate/]],
    ['trailing high surrogate', { name: 'abc\ud83d' }, [/lone surrogate/]]
  ])('%s', (_case, init, patterns) => {
    expectRefused(init, ...patterns)
  })

  it('errors about a field name the namespace they are about', () => {
    expectRefused({ name: 'orders', replicas: 0 }, /^namespace "orders": /)
    expectRefused({ name: 'orders', bogus: 1 }, /^namespace "orders": /)
  })

  it('allowReserved admits the _meshcache prefix (the mesh\'s own namespaces)', () => {
    expect(resolveNamespace({ name: '_meshcache.catalog' }, { allowReserved: true }).name).toBe('_meshcache.catalog')
  })

  it('a name that only contains _meshcache later is not reserved', () => {
    expect(resolveNamespace({ name: 'my_meshcache' }).name).toBe('my_meshcache')
  })
})

describe('namespace names and their UTF-8 length', () => {
  it.each([
    ['256 ASCII bytes', 'a'.repeat(256), true],
    ['257 ASCII bytes', 'a'.repeat(257), false],
    ['128 two-byte characters (256 bytes)', 'é'.repeat(128), true],
    ['129 two-byte characters (258 bytes)', 'é'.repeat(129), false],
    ['85 three-byte characters (255 bytes)', '€'.repeat(85), true],
    ['86 three-byte characters (258 bytes)', '€'.repeat(86), false],
    ['64 four-byte characters (256 bytes, 128 UTF-16 units)', '😀'.repeat(64), true],
    ['65 four-byte characters (260 bytes, 130 UTF-16 units)', '😀'.repeat(65), false]
  ])('%s: accepted %s', (_case, name, accepted) => {
    if (accepted) expect(checkNamespaceName(name)).toBe(name)
    else expect(() => checkNamespaceName(name)).toThrow(/over the limit of 256/)
  })

  it.each([
    ['', 0], ['a', 1], ['é', 2], ['€', 3], ['😀', 4], ['a😀é€', 10]
  ])('utf8Bytes(%j) = %i', (s, n) => {
    expect(utf8Bytes(s)).toBe(n)
  })

  it('utf8Bytes agrees with an encoder on every well-formed string', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (s) => {
      expect(utf8Bytes(s)).toBe(Buffer.byteLength(s, 'utf8'))
    }), { seed: 0x5eed, numRuns: 500 })
  })

  it.each([
    ['lone high surrogate', '\ud800', 3],
    ['high surrogate before a two-byte character', '\ud800é', 5],
    ['low surrogate before a high one', '\udc00\ud800', 6],
    ['lone high surrogate, then a pair', '\ud800\ud83d\ude00', 7]
  ])('utf8Bytes counts a %s as an encoder writes it (U+FFFD)', (_case, s, n) => {
    expect(utf8Bytes(s)).toBe(n)
    expect(Buffer.byteLength(s, 'utf8')).toBe(n)
  })

  it('utf8Bytes agrees with an encoder on any UTF-16 string, lone surrogates included', () => {
    fc.assert(fc.property(fc.string({ unit: fc.oneof(fc.integer({ min: 0xd800, max: 0xdfff }), fc.integer({ min: 0, max: 0xffff })).map((c) => String.fromCharCode(c)), maxLength: 20 }), (s) => {
      expect(utf8Bytes(s)).toBe(Buffer.byteLength(s, 'utf8'))
    }), { seed: 0x5eed, numRuns: 500 })
  })
})

describe('sameDefinition and definitionDiff', () => {
  const base = resolveNamespace({ name: 'n', replication: 'sync', replicas: 3 })

  it('a definition is the same as itself and its diff is empty', () => {
    expect(sameDefinition(base, { ...base })).toBe(true)
    expect(definitionDiff(base, { ...base })).toEqual([])
  })

  it.each([
    ['replication', { replication: 'async' }, 'replication "sync" vs "async"'],
    ['replicas', { replicas: 5 }, 'replicas 3 vs 5'],
    ['writeQuorum', { writeQuorum: 3 }, 'writeQuorum 2 vs 3'],
    ['readQuorum', { readQuorum: 1 }, 'readQuorum 2 vs 1'],
    ['ttlMs', { ttlMs: 1000 }, 'ttlMs 0 vs 1000'],
    ['maxBytes', { maxBytes: 2048 }, `maxBytes ${DEFAULT_NAMESPACE_MAX_BYTES} vs 2048`],
    ['eviction', { eviction: 'lru' }, 'eviction "w-tinylfu" vs "lru"'],
    ['readMode', { readMode: 'local' }, 'readMode "quorum" vs "local"']
  ] as const)('a different %s is another definition, and the diff says so', (_field, change, line) => {
    const other = { ...base, ...change }
    expect(sameDefinition(base, other)).toBe(false)
    expect(sameDefinition(other, base)).toBe(false)
    expect(definitionDiff(base, other)).toEqual([line])
  })

  it('a different name is another definition', () => {
    expect(sameDefinition(base, { ...base, name: 'm' })).toBe(false)
  })

  it('the diff lists every differing field, in declaration order', () => {
    const other = { ...base, replicas: 5, readMode: 'primary' as const, ttlMs: 10 }
    expect(definitionDiff(base, other)).toEqual(['replicas 3 vs 5', 'ttlMs 0 vs 10', 'readMode "quorum" vs "primary"'])
  })

  it('describeNamespace reads as one line with every field', () => {
    expect(describeNamespace(base)).toBe(`n (sync, 3 replicas, W 2, R 2, ttl none, ${DEFAULT_NAMESPACE_MAX_BYTES} bytes, w-tinylfu, reads quorum)`)
    expect(describeNamespace({ ...base, ttlMs: 500 })).toMatch(/ttl 500 ms/)
  })
})
