// A stick pulled out in the middle of the copy, for real: the stick is a FAT
// image served by fusefat (FUSE); killing fusefat makes every further read
// fail (ENOTCONN), as a vanished device does. The copy must fail with
// E_STICK_CHANGED and leave no partial file behind.
import t from 'tap'
import { execFileSync, spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, lstatSync, mkdtempSync, rmdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { copyVerified } from '@xs-rsync/agent'

t.test('fusefat killed mid-copy: E_STICK_CHANGED, no partial copy', async (t) => {
  const dir = t.testdir({ store: {} })
  const data = randomBytes(6 * 1024 * 1024)
  const src = join(dir, 'BIG.BIN')
  writeFileSync(src, data)
  const img = join(dir, 'stick.img')
  execFileSync('truncate', ['-s', '32M', img])
  execFileSync('mkfs.vfat', ['-n', 'XSTEST', img], { stdio: 'ignore' })
  execFileSync('mcopy', ['-i', img, src, '::'])
  // the mount point is outside the test folder, so tap never removes a live mount
  const mnt = mkdtempSync(join(tmpdir(), 'xs-fat-'))
  const fuse = spawn('fusefat', ['-f', '-o', 'ro', img, mnt], { stdio: 'ignore' })
  const gone = new Promise((resolve) => fuse.on('close', resolve))
  t.teardown(async () => {
    if (fuse.exitCode === null && fuse.signalCode === null) fuse.kill('SIGKILL')
    await gone
    try { execFileSync('fusermount', ['-u', mnt], { stdio: 'ignore', timeout: 10_000 }) } catch { /* not mounted */ }
    rmdirSync(mnt)
  })
  const path = join(mnt, 'BIG.BIN')
  for (let i = 0; i < 100 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 50))
  const st = lstatSync(path)
  t.equal(st.size, data.length, 'the stick is mounted')
  const file = { name: 'BIG.BIN', hash: createHash('sha256').update(data).digest('hex'), path, size: st.size, ino: st.ino, mtimeMs: st.mtimeMs }

  const ok = await copyVerified({ file, algo: 'sha256', dest: join(dir, 'store', 'first') })
  t.equal(ok.bytes, data.length, 'a whole copy works while the stick is there')

  const dest = join(dir, 'store', 'copy')
  let pulled = false
  await t.rejects(copyVerified({
    file, algo: 'sha256', dest,
    meter: { add: () => { if (!pulled) { pulled = true; fuse.kill('SIGKILL') } } },
  }), { name: 'XsError', code: 'E_STICK_CHANGED', message: /stick was removed or failed|disappeared|changed/ })
  t.ok(pulled)
  t.notOk(existsSync(dest), 'no partial copy left')
})
