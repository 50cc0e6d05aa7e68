import t from 'tap'
import { symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { locatePackedBuild, scanPackedBuilds } from '../src/read-packed-builds.js'

const H = '0123456789abcdef0123456789abcdef'
const without = (o: Record<string, string>, k: string): Record<string, string> => Object.fromEntries(Object.entries(o).filter(([x]) => x !== k))
const build = (base: string, name: string, ext = 'tar.bz2'): Record<string, string> => ({
  [`${base}-tree.${ext}`]: 'tarball bytes',
  [`${base}-tree.${ext}.md5`]: `${H}  whatever.tar\n`,
  [`${base}.contents`]: `contents of ${name}\n`,
  [`${base}.name`]: `${name}\nsecond line ignored\n`,
})

t.test('scan: complete, unnamed, incomplete, bad name, duplicate name, ignored', async (t) => {
  const dir = t.testdir({
    ...build('os1', '44'),
    ...build('os2', '45', 'tar.xz'),
    'os3-tree.tar.bz2': 'no name: not asked to be published',
    ...build('os4', 'bad name'),
    ...build('os5', '46'), 'os5-tree.tar.bz2.md5': 'not md5sum output\n',
    ...without(build('os6', '47'), 'os6.contents'),
    ...build('os7', '48'), ...build('os8', '48'),
    'notes.txt': 'x',
  })
  const s = await scanPackedBuilds(dir)
  t.same(s.builds.map((b) => [b.name, b.tarball, b.expectedMd5, b.size]), [
    ['44', join(dir, 'os1-tree.tar.bz2'), H, 13],
    ['45', join(dir, 'os2-tree.tar.xz'), H, 13],
  ])
  t.same(s.unnamed, ['os3'])
  t.same(s.ignored, ['notes.txt'])
  t.same(s.failures.map((f) => [f.base, f.name, f.error.code]), [
    ['os4', undefined, 'E_BUILD_NAME'],
    ['os5', '46', 'E_BUILD_INCOMPLETE'],
    ['os6', '47', 'E_BUILD_INCOMPLETE'],
    ['os7', '48', 'E_BUILD_NAME'],
    ['os8', '48', 'E_BUILD_NAME'],
  ])
  t.same([...s.claimedNames].sort(), ['44', '45', '46', '47', '48'])
})

t.test('a symlink where a build file should be is refused', async (t) => {
  const dir = t.testdir(without(build('os1', '44'), 'os1.name'))
  symlinkSync('/etc/hostname', join(dir, 'os1.name'))
  const s = await scanPackedBuilds(dir)
  t.match(s.failures, [{ base: 'os1', error: { code: 'E_BUILD_INCOMPLETE', message: /os1\.name is not a regular file/ } }])
})

t.test('locate: the build around a tarball; NAME argument replaces .name', async (t) => {
  const dir = t.testdir({ ...build('os1', '44'), 'os2-tree.tar.xz': 'x', 'os2-tree.tar.xz.md5': `${H}\n`, 'os2.toc': 'toc\n' })
  t.equal((await locatePackedBuild(join(dir, 'os1-tree.tar.bz2'))).name, '44')
  t.equal((await locatePackedBuild(join(dir, 'os1-tree.tar.bz2'), 'other')).name, 'other')
  t.match(await locatePackedBuild(join(dir, 'os2-tree.tar.xz'), 'b2'), { name: 'b2', contentsFile: join(dir, 'os2.toc') })
  await t.rejects(locatePackedBuild(join(dir, 'os2-tree.tar.xz')), { code: 'E_BUILD_INCOMPLETE', message: /missing name/ })
  await t.rejects(locatePackedBuild(join(dir, 'os1-tree.tar.bz2'), 'a/b'), { code: 'E_BUILD_NAME' })
  await t.rejects(locatePackedBuild(join(dir, 'os1.contents')), { code: 'E_BUILD_INCOMPLETE', message: /not a build tarball/ })
})
