import t from 'tap'
import { groupPackedBuilds } from '../src/group-packed-builds.js'

t.test('complete builds in both naming styles', async (t) => {
  t.same(groupPackedBuilds([
    'os44-tree.tar.bz2', 'os44-tree.tar.bz2.md5', 'os44.contents', 'os44.name',
    'os45.tree.tar.lzma', 'os45.tree.tar.lzma.md5', 'os45.toc', 'os45.name',
    'os46-tree.tar.xz', 'os46-tree.tar.xz.md5', 'os46.contents', 'os46.name',
  ]), {
    groups: [
      { base: 'os44', tarball: 'os44-tree.tar.bz2', md5: 'os44-tree.tar.bz2.md5', contents: 'os44.contents', name: 'os44.name', missing: [], conflicts: [] },
      { base: 'os45', tarball: 'os45.tree.tar.lzma', md5: 'os45.tree.tar.lzma.md5', contents: 'os45.toc', name: 'os45.name', missing: [], conflicts: [] },
      { base: 'os46', tarball: 'os46-tree.tar.xz', md5: 'os46-tree.tar.xz.md5', contents: 'os46.contents', name: 'os46.name', missing: [], conflicts: [] },
    ],
    ignored: [],
  })
})

t.test('what is missing, conflicts, and ignored files', async (t) => {
  const cases: { files: string[], groups: object[], ignored: string[] }[] = [
    { files: ['a-tree.tar.bz2'], groups: [{ base: 'a', tarball: 'a-tree.tar.bz2', missing: ['contents', 'md5', 'name'], conflicts: [] }], ignored: [] },
    { files: ['a.name', 'a.contents'], groups: [{ base: 'a', contents: 'a.contents', name: 'a.name', missing: ['md5', 'tarball'], conflicts: [] }], ignored: [] },
    // an md5 made for another format does not count
    { files: ['a-tree.tar.bz2', 'a-tree.tar.xz.md5', 'a.contents', 'a.name'],
      groups: [{ base: 'a', tarball: 'a-tree.tar.bz2', contents: 'a.contents', name: 'a.name', missing: ['md5'], conflicts: [] }], ignored: ['a-tree.tar.xz.md5'] },
    { files: ['a-tree.tar.bz2', 'a-tree.tar.xz', 'a.contents', 'a.name'],
      groups: [{ base: 'a', contents: 'a.contents', name: 'a.name', missing: [], conflicts: ['a-tree.tar.bz2', 'a-tree.tar.xz'] }], ignored: [] },
    { files: ['a.contents', 'a.toc', 'a.name', 'a-tree.tar.bz2', 'a-tree.tar.bz2.md5'],
      groups: [{ base: 'a', tarball: 'a-tree.tar.bz2', md5: 'a-tree.tar.bz2.md5', name: 'a.name', missing: [], conflicts: ['a.contents', 'a.toc'] }], ignored: [] },
    { files: ['README', '.a-tree.tar.bz2', 'a.tar.bz2', 'x.zip', 'manifest.sha1'], groups: [],
      ignored: ['.a-tree.tar.bz2', 'README', 'a.tar.bz2', 'manifest.sha1', 'x.zip'] },
    { files: ['a-tree.tar.gz'], groups: [], ignored: ['a-tree.tar.gz'] },
  ]
  for (const c of cases) t.same(groupPackedBuilds(c.files), { groups: c.groups, ignored: c.ignored }, c.files.join(' '))
})
