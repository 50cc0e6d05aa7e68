import t from 'tap'
import { checkStickLayouts, stickLayout } from '../src/stick-layout.js'

t.test('plans each kind of build under the names the agent expects', async (t) => {
  const cases: [string, string[], Record<string, string | undefined>][] = [
    ['/b/os44-tree.tar.bz2', ['os44-tree.tar.bz2', 'os44-tree.tar.bz2.md5', 'os44.contents', 'os44.name'],
      { tarball: 'os44-tree.tar.bz2', md5: 'os44-tree.tar.bz2.md5', contents: 'os44.contents', name: 'os44.name',
        md5From: '/b/os44-tree.tar.bz2.md5', nameFrom: '/b/os44.name', contentsFrom: '/b/os44.contents' }],
    ['/b/os45-tree.tar.xz', ['os45-tree.tar.xz', 'os45.contents'],
      { tarball: 'os45-tree.tar.xz', md5From: undefined, nameFrom: undefined, contentsFrom: '/b/os45.contents' }],
    // olpc-os-builder output: X.tree.tar.lzma + X.toc, renamed for the stick
    ['/o/32013o1.tree.tar.lzma', ['32013o1.tree.tar.lzma', '32013o1.toc', '32013o1.zsp'],
      { base: '32013o1', tarball: '32013o1-tree.tar.lzma', md5: '32013o1-tree.tar.lzma.md5', contents: '32013o1.contents',
        contentsFrom: '/o/32013o1.toc', md5From: undefined }],
    ['/o/x.tree.tar.lzma', ['x.tree.tar.lzma', 'x.tree.tar.lzma.md5', 'x.toc', 'x.contents'],
      { tarball: 'x-tree.tar.lzma', md5From: '/o/x.tree.tar.lzma.md5', contentsFrom: '/o/x.contents' }],
  ]
  for (const [path, siblings, want] of cases) {
    const got = stickLayout(path, siblings) as unknown as Record<string, string | undefined>
    for (const [k, v] of Object.entries(want)) t.equal(got[k], v, `${path}: ${k}`)
  }
})

t.test('refuses what is not a complete build tarball', async (t) => {
  const cases: [string, string[], string, RegExp][] = [
    ['/b/os44.tar.gz', ['os44.tar.gz', 'os44.contents'], 'E_ARCHIVE_FORMAT', /not a build tarball/],
    ['/b/os44-tree.tar.gz', [], 'E_ARCHIVE_FORMAT', /not a build tarball/],
    ['/b/.os44-tree.tar.bz2', ['.os44.contents'], 'E_ARCHIVE_FORMAT', /not a build tarball/],
    ['/b/os44-tree.tar.bz2', ['os44-tree.tar.bz2', 'os44.name'], 'E_BUILD_INCOMPLETE', /no os44\.contents/],
  ]
  for (const [path, siblings, code, message] of cases) {
    t.throws(() => stickLayout(path, siblings), { name: 'XsError', code, message }, path)
  }
})

t.test('builds sharing one stick must not collide', async (t) => {
  const a = stickLayout('/a/os44-tree.tar.bz2', ['os44.contents'])
  const b = stickLayout('/b/os45-tree.tar.xz', ['os45.contents'])
  t.doesNotThrow(() => { checkStickLayouts([a, b]) })
  const a2 = stickLayout('/c/os44-tree.tar.xz', ['os44.contents'])
  t.throws(() => { checkStickLayouts([a, a2]) }, { code: 'E_USAGE', message: /both be named os44-tree/ })
  const o = stickLayout('/o/os44.tree.tar.lzma', ['os44.toc'])
  t.throws(() => { checkStickLayouts([a, o]) }, { code: 'E_USAGE' })
})
