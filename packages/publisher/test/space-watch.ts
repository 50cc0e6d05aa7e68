import t from 'tap'
import { SpaceWatch, type FsFree } from '../src/space-watch.js'

const MiB = 1024 * 1024

/** A file system that loses what the watch charges (as the unpack writes it), and counts statfs calls. */
const fakeFs = (bytes: number, inodes: number): { fs: FsFree, calls: number, statfs: () => FsFree } => {
  const st = { fs: { bsize: 4096, bavail: bytes / 4096, files: inodes === 0 ? 0 : 1e6, ffree: inodes }, calls: 0, statfs: (): FsFree => { st.calls++; return { ...st.fs } } }
  return st
}

t.test('bytes: the entry that would eat into the reserve is refused, naming the build and bytes', async (t) => {
  const f = fakeFs(100 * MiB, 1e6)
  const w = new SpaceWatch('/store', { bytes: 10 * MiB, inodes: 100 }, 'build 45', f.statfs)
  let written = 0
  const er = (() => {
    try {
      for (;;) {
        w.charge(MiB, 1)
        written += MiB + 4096
        f.fs.bavail -= (MiB + 4096) / 4096
      }
    } catch (e) { return e }
  })()
  t.match(er, { code: 'E_NO_SPACE', message: /^build 45: the store ran out of free space while unpacking/ })
  t.ok(f.fs.bavail * 4096 >= 10 * MiB, `the reserve is intact: ${f.fs.bavail * 4096} bytes free`)
  t.ok(written > 80 * MiB, 'what fits above the reserve is used')
})

t.test('inodes: refused before the reserve of inodes is touched, naming inodes', async (t) => {
  const f = fakeFs(1e6 * MiB, 5000)
  const w = new SpaceWatch('/store', { bytes: 0, inodes: 1000 }, 'build 46', f.statfs)
  const er = (() => {
    try {
      for (;;) {
        w.charge(0, 3)
        f.fs.ffree -= 3
      }
    } catch (e) { return e }
  })()
  t.match(er, { code: 'E_NO_SPACE', message: /^build 46: the store ran out of free inodes \(files\) while unpacking: \d+ free/ })
  t.ok(f.fs.ffree >= 1000, `the inode reserve is intact: ${f.fs.ffree} free`)
})

t.test('a store already below the reserve is refused at once', async (t) => {
  t.throws(() => new SpaceWatch('/s', { bytes: 200 * MiB, inodes: 0 }, 'x', fakeFs(100 * MiB, 10).statfs), { code: 'E_NO_SPACE' })
})

t.test('a file system without inode counts is watched for bytes only', async (t) => {
  const f = fakeFs(1000 * MiB, 0)
  const w = new SpaceWatch('/s', { bytes: 0, inodes: 4096 }, 'x', f.statfs)
  for (let i = 0; i < 10000; i++) w.charge(0, 1)
  t.pass('no inode refusal')
})

t.test('asks again at least every 4096 entries or 64 MiB, and not per entry while there is room', async (t) => {
  const f = fakeFs(1e6 * MiB, 1e6)
  const w = new SpaceWatch('/s', { bytes: 0, inodes: 0 }, 'x', f.statfs)
  for (let i = 0; i < 8192; i++) w.charge(10, 1)
  t.equal(f.calls, 3, 'start, then after 4096 and 8192 entries')
  for (let i = 0; i < 16; i++) w.charge(4 * MiB, 1)
  t.equal(f.calls, 4, 'one more after 64 MiB')
})
