// Times with nanoseconds are set at the end of an unpack, by one perl process (utimensat) or by GNU
// touch: any name bytes, symlinks themselves, batches, nothing else changed; and no process at all
// for whole seconds.
import t from 'tap'
import { chmodSync, lstatSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { applyExactTimes, exactTimeRecord, type ExactTimeSetter } from '../src/exact-times.js'
import { SpoolFile } from '../src/spool-file.js'
import { unpackBuild } from '../src/unpack.js'
import { compressBytes, paxRecords, rawTar } from './lib/make-archive.js'

const mtimeNs = (p: string): bigint => lstatSync(Buffer.from(p, 'latin1'), { bigint: true }).mtimeNs

for (const how of ['perl', 'touch'] as ExactTimeSetter[]) t.test(`applyExactTimes (${how}) sets each name's mtime to the nanosecond and nothing else`, async (t) => {
  const dir = t.testdir({ root: {} })
  const root = join(dir, 'root')
  const odd = ['a b', '-dash', 'latin\xff', 'new\nline', 'dir', 'dir/in', 'dangling', 'untouched']
  for (const n of odd) {
    if (n === 'dir') mkdirSync(join(root, n))
    else if (n === 'dangling') symlinkSync('nowhere', join(root, n))
    else writeFileSync(Buffer.from(join(root, n), 'latin1'), n)
  }
  // over one batch (1 MiB of names) sharing one time
  const many = Array.from({ length: 4500 }, (_, i) => `${String(i).padStart(5, '0')}${'m'.repeat(240)}`)
  for (const n of many) writeFileSync(join(root, 'dir', n), '')
  for (const n of [...odd.filter((n) => n !== 'dangling'), ...many.map((n) => `dir/${n}`), '']) {
    utimesSync(Buffer.from(join(root, n), 'latin1'), 1000, 1000)
  }
  const spool = new SpoolFile(join(dir, 'times.spool'))
  const want = new Map<string, bigint>()
  const add = (path: string, sec: number, nsec: number): void => {
    spool.append(exactTimeRecord({ sec, nsec }, path))
    want.set(path, BigInt(sec) * 1000000000n + BigInt(nsec))
  }
  odd.filter((n) => n !== 'untouched' && n !== 'dir').forEach((n, i) => add(n, 1796607276 + i, 123456789))
  add('dir', -2, 1)
  add('', 1234567893, 333333333)
  for (const n of many) add(`dir/${n}`, 1700000000, 999999999)
  add('gone', 1700000001, 1) // a name that is not there is skipped, as touch -c does
  want.delete('gone')
  spool.close()
  chmodSync(join(root, 'dir'), 0o500)
  t.equal(await applyExactTimes(root, spool.path, dir, how), how === 'perl' ? want.size : want.size + 1, 'every record applied')
  for (const [p, ns] of want) {
    if (mtimeNs(join(root, p)) !== ns) t.fail(`${JSON.stringify(p)}: ${mtimeNs(join(root, p))}, want ${ns}`)
  }
  t.equal(mtimeNs(join(root, 'dir')), -1999999999n, 'a negative time with nanoseconds')
  t.equal(mtimeNs(join(root, 'dir/00000' + 'm'.repeat(240))), 1700000000999999999n, 'the first of the big batch')
  t.equal(mtimeNs(join(root, 'dangling')), 1796607281123456789n, 'the symlink itself (its target is not made)')
  t.equal(lstatSync(join(root, 'untouched'), { bigint: true }).mtimeNs, 1000000000000n, 'a name without a record keeps its time')
  t.equal(lstatSync(join(root, 'a b'), { bigint: true }).atimeNs, 1000000000000n, 'atime unchanged')
})

t.test('an unpack runs perl or touch only for archives with nanoseconds', async (t) => {
  const dir = t.testdir({ bin: {} })
  // perl, xargs and touch that fail: whole-second archives must not need them
  for (const tool of ['perl', 'xargs', 'touch']) {
    writeFileSync(join(dir, 'bin', tool), '#!/bin/sh\necho "$0 was run" >&2\nexit 7\n', { mode: 0o755 })
  }
  const whole = join(dir, 'whole.tar.xz')
  writeFileSync(whole, compressBytes(rawTar([{ name: 'd', type: '5', mode: 0o755 }, { name: 'd/f', data: Buffer.from('x') }]), 'xz'))
  const ns = join(dir, 'ns.tar.xz')
  writeFileSync(ns, compressBytes(rawTar([{ name: 'PaxHeaders/f', type: 'x', data: paxRecords([['mtime', '1600000000.000000001']]) },
    { name: 'f', data: Buffer.from('x') }]), 'xz'))
  const path = process.env.PATH
  process.env.PATH = `${join(dir, 'bin')}:${path ?? ''}`
  try {
    for (const backend of ['fake-super', 'fakeroot'] as const) {
      const r = await unpackBuild({ tarball: whole, dest: join(dir, `whole-${backend}`), backend, reserve: { bytes: 0, inodes: 0 } })
      t.equal(mtimeNs(join(r.root, 'd/f')), 1600000000000000000n, `${backend}: whole seconds set by Node alone`)
      await t.rejects(unpackBuild({ tarball: ns, dest: join(dir, `ns-${backend}`), backend, reserve: { bytes: 0, inodes: 0 } }),
        { code: 'E_IO', message: /(perl|xargs) .*failed \(exit 7\): .*(perl|xargs) was run/ }, `${backend}: nanoseconds need perl or touch (the fake one fails)`)
    }
  } finally {
    process.env.PATH = path
  }
  const r = await unpackBuild({ tarball: ns, dest: join(dir, 'ns-real'), backend: 'fake-super', reserve: { bytes: 0, inodes: 0 } })
  t.equal(mtimeNs(join(r.root, 'f')), 1600000000000000001n, 'with the real tools: to the nanosecond')
})
