import t from 'tap'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { sortSpillBound } from '../src/join-ownership.js'
import { SpoolFile, type SpaceCharge } from '../src/spool-file.js'

/** Records every charge; refuses once more than `budget` bytes were charged. */
const meter = (budget = Infinity): SpaceCharge & { bytes: number, inodes: number, calls: number } => {
  const m = {
    bytes: 0, inodes: 0, calls: 0,
    charge: (size: number, inodes: number): void => {
      if (m.bytes + size > budget) throw Object.assign(new Error('no space'), { code: 'E_NO_SPACE' })
      m.bytes += size
      m.inodes += inodes
      m.calls++
    },
  }
  return m
}

t.test('every byte written and the file itself are charged before they are written', async (t) => {
  const dir = t.testdir({})
  const space = meter()
  const f = new SpoolFile(join(dir, 's'), space)
  t.equal(space.inodes, 1, 'the file is charged one inode when made')
  const rec = 'x'.repeat(1000) + '\0'
  for (let i = 0; i < 700; i++) f.append(rec)
  f.append('y'.repeat(300 * 1024))
  f.close()
  t.equal(space.bytes, statSync(join(dir, 's')).size, 'the bytes charged are the bytes written')
  t.ok(space.calls < 10, `charged per buffer flush, not per record (${space.calls} charges)`)
})

t.test('a refused charge writes nothing more and passes the refusal on', async (t) => {
  const dir = t.testdir({})
  const space = meter(300 * 1024)
  const f = new SpoolFile(join(dir, 's'), space)
  t.throws(() => { for (let i = 0; i < 1000; i++) f.append('z'.repeat(1023) + '\0') }, { code: 'E_NO_SPACE' })
  t.throws(() => f.close(), { code: 'E_NO_SPACE' }, 'the buffered rest is refused too')
  t.equal(readFileSync(join(dir, 's')).length, space.bytes, 'only what was charged is on disk')
  t.ok(space.bytes <= 300 * 1024)
})

t.test('without a charge the spool writes as before', async (t) => {
  const dir = t.testdir({})
  const f = new SpoolFile(join(dir, 's'))
  f.append('abc\0')
  f.close()
  t.equal(readFileSync(join(dir, 's'), 'latin1'), 'abc\0')
})

t.test("sort's spill bound: its input up to 16 spill files of 16 MiB, twice that beyond", async (t) => {
  const MiB = 1024 * 1024
  for (const [input, bound] of [[0, 0], [10 * MiB, 10 * MiB], [256 * MiB, 256 * MiB], [256 * MiB + 1, 2 * (256 * MiB + 1)], [1024 * MiB, 2048 * MiB]] as const) {
    t.equal(sortSpillBound(input), bound, `${input} bytes of records`)
  }
})
