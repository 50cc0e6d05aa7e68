import t from 'tap'
import { makedev, renderFakerootState } from '../src/ownership-fakeroot.js'

t.test('makedev matches glibc', async (t) => {
  const cases: [number, number, bigint][] = [[0, 0, 0n], [1, 3, 259n], [8, 1, 2049n], [4, 300, 1049644n], [259, 0, 66304n], [4096, 0, 17592186044416n]]
  for (const [ma, mi, want] of cases) t.equal(makedev(ma, mi), want, `${ma},${mi}`)
})

t.test('renderFakerootState', async (t) => {
  const meta = { uid: 0, gid: 0, devmajor: 0, devminor: 0, mtime: 0, size: 0 }
  t.equal(renderFakerootState([
    { dev: 0xfe01n, ino: 12n, nlink: 1n, meta: { ...meta, mode: 0o20666, devmajor: 1, devminor: 3 } },
    { dev: 0xfe01n, ino: 2n ** 60n, nlink: 3n, meta: { ...meta, mode: 0o104755, uid: 7, gid: 8, devmajor: 9 } },
    { dev: 0x803n, ino: 5n, nlink: 2n, meta: { ...meta, mode: 0o41777 } },
  ]), 'dev=fe01,ino=12,mode=20666,uid=0,gid=0,nlink=1,rdev=259\n' +
    'dev=fe01,ino=1152921504606846976,mode=104755,uid=7,gid=8,nlink=3,rdev=0\n' +
    'dev=803,ino=5,mode=41777,uid=0,gid=0,nlink=2,rdev=0\n')
})
