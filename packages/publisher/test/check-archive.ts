import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { checkArchive, unpackBuild } from '../src/unpack.js'
import { compressBytes, compressFile, makeTreeTar, paxRecords, rawTar, type RawEntry } from './lib/make-archive.js'

const dir = t.testdir({ out: {} })
let n = 0
const xz = (data: Uint8Array): string => {
  const f = join(dir, `c${n++}.tar.xz`)
  writeFileSync(f, compressBytes(data, 'xz'))
  return f
}
const file = (name: string, data = 'x'): RawEntry => ({ name, data: Buffer.from(data) })

/** What an unpack says of `tarball`: its error code and message, or 'ok'. */
const unpackVerdict = async (tarball: string): Promise<string> =>
  unpackBuild({ tarball, dest: join(dir, 'out', `u${n++}`), backend: 'fake-super', reserve: { bytes: 0, inodes: 0 } })
    .then(() => 'ok', (e: { code: string, message: string }) => `${e.code}: ${e.message}`)
const checkVerdict = async (tarball: string): Promise<string> =>
  checkArchive({ tarball }).then(() => 'ok', (e: { code: string, message: string }) => `${e.code}: ${e.message}`)

t.test('a check refuses exactly what an unpack refuses, with the same words, and writes nothing', async (t) => {
  const cases: [string, RawEntry[]][] = [
    ['traversal', [file('../x')]],
    ['symlink then a file through it', [{ name: 'l', type: '2', linkname: '/etc' }, file('l/x')]],
    ['a file then a file below it', [file('f'), file('f/x')]],
    ['a file then a deeper file below it', [file('f'), file('f/a/b')]],
    ['hardlink to a missing name', [{ name: 'h', type: '1', linkname: 'nope' }]],
    ['hardlink to a folder', [{ name: 'd', type: '5' }, { name: 'h', type: '1', linkname: 'd' }]],
    ['hardlink to itself', [file('a'), { name: 'a', type: '1', linkname: 'a' }]],
    ['hardlink through a file', [file('f'), { name: 'h', type: '1', linkname: 'f/x' }]],
    ['a folder over a file', [file('a'), { name: 'a', type: '5' }]],
    ['a file over a folder', [{ name: 'a', type: '5' }, file('a')]],
    ['the root as a file', [file('./')]],
    ['sparse', [{ name: 'PaxHeaders/s', type: 'x', data: paxRecords([['GNU.sparse.major', '1'], ['GNU.sparse.minor', '0']]) }, file('GNUSparseFile.0/s')]],
    ['fine: a later file replaces an earlier one, hardlinks, implicit parents', [file('a'), file('a', 'y'), { name: 'b/c/h', type: '1', linkname: 'a' }, { name: 'b', type: '5' }]],
  ]
  for (const [what, entries] of cases) {
    const tarball = xz(rawTar(entries))
    t.equal(await checkVerdict(tarball), await unpackVerdict(tarball), what)
  }
  t.same(readdirSync(join(dir, 'out')).filter((d) => !d.startsWith('u')), [], 'the check wrote nothing')
})

t.test('a non-directory named "a/." or "b/": GNU tar makes it as it is (a fifo "a/." is EEXIST there), xs-rsync refuses it', async (t) => {
  for (const entries of [[{ name: 'a/.', type: '6' }], [{ name: 'b/n', type: '3' }, { name: 'b/c/', type: '3' }]]) {
    const tarball = xz(rawTar(entries))
    t.match(await unpackVerdict(tarball), /^E_ARCHIVE_UNSAFE: .*is not a directory but its name ends in "\/" or "\."/)
    t.equal(await checkVerdict(tarball), await unpackVerdict(tarball))
  }
})

t.test('the entry limit counts the same names in a check', async (t) => {
  const tarball = xz(rawTar([file('a/b/c'), file('a/b/d'), file('e')]))
  for (const max of [5, 6]) {
    const u = await unpackBuild({ tarball, dest: join(dir, 'out', `m${max}`), backend: 'fake-super', limits: { maxEntries: max }, reserve: { bytes: 0, inodes: 0 } })
      .then(() => 'ok', (e: { code: string }) => e.code)
    const c = await checkArchive({ tarball, limits: { maxEntries: max } }).then(() => 'ok', (e: { code: string }) => e.code)
    t.equal(c, u, `maxEntries ${max}: ${u}`)
  }
})

t.test('a real OS-like tree passes the check with its md5; a wrong md5 is E_CHECKSUM', async (t) => {
  const tarball = compressFile(makeTreeTar(dir, 'os').gnu, 'xz', join(dir, 'os.tar.xz'))
  const r = await checkArchive({ tarball })
  t.match(r, { md5: /^[0-9a-f]{32}$/, warnings: [] })
  t.ok(r.entries > 10)
  await t.rejects(checkArchive({ tarball, expectedMd5: '0'.repeat(32) }), { code: 'E_CHECKSUM' })
})

t.test('the check makes its names in a throwaway folder of scratchDir and removes it, passed or refused', async (t) => {
  const scratchDir = join(dir, 'scratch')
  mkdirSync(scratchDir)
  const ended = spawnSync('true')
  const stale = `xs-rsync-check.${ended.pid ?? 0}.Zz9yX8`
  mkdirSync(join(scratchDir, stale, 'tree', 'etc'), { recursive: true })
  writeFileSync(join(scratchDir, 'other.1.abcdef'), '')
  const seen: string[] = []
  // the folder exists while the entries are read: look at it from a progress event
  const onProgress = (): void => { seen.push(...readdirSync(scratchDir).filter((n) => n.startsWith('xs-rsync-check.') && n !== stale)) }
  const good = xz(rawTar([file('a/b'), { name: 'l', type: '2', linkname: 'a/b' }]))
  const r = await checkArchive({ tarball: good, scratchDir, reserve: { bytes: 0, inodes: 0 }, onProgress })
  t.equal(r.entries, 4, 'the root, a, a/b and l')
  t.match(seen[0], /^xs-rsync-check\.\d+\.[A-Za-z0-9]{6}$/, 'made in scratchDir')
  t.same(readdirSync(scratchDir), ['other.1.abcdef'], 'removed, with the one a killed check left; nothing else touched')
  await t.rejects(checkArchive({ tarball: xz(rawTar([file('f'), file('f/x')])), scratchDir, reserve: { bytes: 0, inodes: 0 } }), { code: 'E_ARCHIVE_UNSAFE' })
  t.same(readdirSync(scratchDir), ['other.1.abcdef'], 'removed after a refusal')
})

t.test('a scratch folder without room is E_NO_SPACE naming the throwaway tree, not the archive', async (t) => {
  const scratchDir = join(dir, 'scratch2')
  mkdirSync(scratchDir)
  const er = await checkArchive({ tarball: xz(rawTar([file('a')])), scratchDir, reserve: { bytes: 0, inodes: Number.MAX_SAFE_INTEGER } })
    .then(() => undefined, (e: Error) => e)
  t.match(er, { code: 'E_NO_SPACE', message: /the check's throwaway tree of empty files in .*scratch2 ran out of free inodes/ })
  t.same(readdirSync(scratchDir), [])
})
