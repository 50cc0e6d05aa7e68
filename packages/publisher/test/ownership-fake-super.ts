import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { applyFattrDump, fakeSuperStat, quoteFattrName, renderFattrDump } from '../src/ownership-fake-super.js'
import { fsPath } from '../src/entry-path.js'
import { readFattr } from './lib/read-tree.js'

const base = { uid: 0, gid: 0, devmajor: 0, devminor: 0, mtime: 0, size: 0 }

t.test('fakeSuperStat', async (t) => {
  const cases: [number, number, number, number, number, string][] = [
    [0o100644, 0, 0, 0, 0, '100644 0,0 0:0'], [0o104755, 0, 0, 0, 0, '104755 0,0 0:0'],
    [0o20666, 1, 3, 0, 0, '20666 1,3 0:0'], [0o60660, 8, 1, 0, 6, '60660 8,1 0:6'],
    [0o10600, 0, 0, 0, 0, '10600 0,0 0:0'], [0o120777, 0, 0, 1000, 1000, '120777 0,0 1000:1000'],
    [0o41777, 5, 5, 0, 0, '41777 0,0 0:0'],
  ]
  for (const [mode, devmajor, devminor, uid, gid, want] of cases) {
    t.equal(fakeSuperStat({ ...base, mode, devmajor, devminor, uid, gid }), want, want)
  }
})

t.test('quoteFattrName escapes what getfattr escapes', async (t) => {
  t.equal(quoteFattrName(Buffer.from('a b\nc"d\\e\xff=', 'latin1')), 'a\\040b\\012c"d\\134e\\377=')
})

t.test('setfattr --restore applies a rendered dump to awkward names', async (t) => {
  const dir = t.testdir({ tree: {} })
  const tree = join(dir, 'tree')
  const names = ['with space', 'new\nline', 'quote"s', 'back\\slash', 'latin\xff\xfe', 'tab\tx', ' lead', '# file: x', 'eq=x']
  const entries = [{ path: '', meta: { ...base, mode: 0o40755 } }, ...names.map((path, i) => ({ path, meta: { ...base, mode: 0o100600, uid: i } }))]
  for (const n of names) writeFileSync(fsPath(tree, n), '')
  const dump = join(dir, 'dump')
  writeFileSync(dump, renderFattrDump(entries))
  await applyFattrDump(tree, dump)
  const got = readFattr(tree)
  t.equal(got.get(''), '40755 0,0 0:0')
  names.forEach((n, i) => t.equal(got.get(n), `100600 0,0 ${i}:0`, JSON.stringify(n)))
})

t.test('a filesystem without user xattrs (ramfs) is E_OWNERSHIP', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xs-fattr-'))
  const mnt = join(dir, 'mnt')
  mkdirSync(mnt)
  execFileSync('mount', ['-t', 'ramfs', 'ramfs', mnt])
  t.teardown(() => {
    execFileSync('umount', [mnt])
    rmSync(dir, { recursive: true })
  })
  writeFileSync(join(mnt, 'f'), '')
  const dump = join(dir, 'dump')
  writeFileSync(dump, renderFattrDump([{ path: 'f', meta: { ...base, mode: 0o100644 } }]))
  await t.rejects(applyFattrDump(mnt, dump), { code: 'E_OWNERSHIP', message: /does not support user xattrs/ })
})
