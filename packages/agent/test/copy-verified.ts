import t from 'tap'
import { createHash } from 'node:crypto'
import { appendFileSync, existsSync, lstatSync, readFileSync, renameSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { copyVerified } from '../src/copy-verified.js'
import type { StickFile } from '../src/manifest-files.js'

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
const BIG = Buffer.alloc(3 * 1024 * 1024 + 17, 7)

/** A stick file as statListedFiles would have recorded it. */
const listed = (path: string, hash?: string): StickFile => {
  const st = lstatSync(path)
  return { name: path.split('/').pop() as string, hash: hash ?? sha256(readFileSync(path)), path, size: st.size, ino: st.ino, mtimeMs: st.mtimeMs }
}

t.test('copies, hashes once, keeps bytes on request; progress adds up', async (t) => {
  const dir = t.testdir({ stick: {}, store: {} })
  const src = join(dir, 'stick', 'a-tree.tar.bz2')
  writeFileSync(src, BIG)
  let seen = 0
  const res = await copyVerified({ file: listed(src), algo: 'sha256', dest: join(dir, 'store', 'a'), meter: { add: (n) => { seen += n } } })
  t.equal(res.bytes, BIG.length)
  t.equal(seen, BIG.length)
  t.ok(readFileSync(join(dir, 'store', 'a')).equals(BIG), 'copy is identical')
  const small = join(dir, 'stick', 'a.name')
  writeFileSync(small, '44\n')
  const r2 = await copyVerified({ file: listed(small), algo: 'sha256', keep: true })
  t.equal(r2.data?.toString(), '44\n', 'hash-only with the bytes kept')
})

t.test('refusals; the destination never stays behind', async (t) => {
  const dir = t.testdir({ stick: {}, store: {} })
  const src = join(dir, 'stick', 'f')
  const dest = join(dir, 'store', 'f')
  const fresh = (): StickFile => { writeFileSync(src, BIG); return listed(src) }

  await t.rejects(copyVerified({ file: { ...fresh(), hash: 'ab'.repeat(32) }, algo: 'sha256', dest }),
    { code: 'E_MANIFEST_MISMATCH', message: /sha256 is [0-9a-f]{64}, the manifest says abab/ }, 'hash mismatch')
  t.notOk(existsSync(dest), 'no copy left after a mismatch')

  let f = fresh()
  unlinkSync(src)
  writeFileSync(join(dir, 'target'), BIG)
  const { symlinkSync } = await import('node:fs')
  symlinkSync(join(dir, 'target'), src)
  await t.rejects(copyVerified({ file: f, algo: 'sha256', dest }), { code: 'E_MANIFEST_MISMATCH', message: /symbolic link/ }, 'swapped for a symlink after the check (O_NOFOLLOW)')
  unlinkSync(src)

  f = fresh()
  writeFileSync(join(dir, 'other'), BIG)
  renameSync(join(dir, 'other'), src)
  await t.rejects(copyVerified({ file: f, algo: 'sha256', dest }), { code: 'E_STICK_CHANGED', message: /changed after it was checked/ }, 'replaced by another file')

  f = fresh()
  await t.rejects(copyVerified({ file: f, algo: 'sha256', dest, meter: { add: () => appendFileSync(src, 'more') } }),
    { code: 'E_STICK_CHANGED', message: /grew|changed while/ }, 'grows while read')
  t.notOk(existsSync(dest))

  f = fresh()
  await t.rejects(copyVerified({ file: f, algo: 'sha256', dest, meter: { add: () => truncateSync(src, 1024) } }),
    { code: 'E_STICK_CHANGED', message: /short read|changed while/ }, 'shrinks while read')
  t.notOk(existsSync(dest))

  f = fresh()
  let once = false
  await t.rejects(copyVerified({ file: f, algo: 'sha256', dest, meter: { add: () => { if (!once) unlinkSync(src); once = true } } }),
    { code: 'E_STICK_CHANGED', message: /disappeared/ }, 'removed while read')
  t.notOk(existsSync(dest))

  f = fresh()
  const ac = new AbortController()
  await t.rejects(copyVerified({ file: f, algo: 'sha256', dest, signal: ac.signal, meter: { add: () => ac.abort() } }),
    { name: 'AbortError' }, 'aborted')
  t.notOk(existsSync(dest))

  writeFileSync(dest, 'already there')
  await t.rejects(copyVerified({ file: fresh(), algo: 'sha256', dest }), { code: 'EEXIST' }, 'never overwrites')
  t.equal(readFileSync(dest, 'utf8'), 'already there', 'an existing file is left alone')
})
