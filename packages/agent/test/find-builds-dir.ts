import t from 'tap'
import { join } from 'node:path'
import { findBuildsDir, isBuildsDirName } from '../src/find-builds-dir.js'

t.test('isBuildsDirName', async (t) => {
  const cases: Array<[string, boolean]> = [
    ['xs-xobuilds', true], ['XS-XOBUILDS', true], ['Xs-XoBuilds', true],
    ['xs-xobuilds2', false], ['xs_xobuilds', false], ['', false], ['xs-xobuilds/', false],
  ]
  for (const [name, want] of cases) t.equal(isBuildsDirName(name), want, name)
})

t.test('findBuildsDir', async (t) => {
  const dir = t.testdir({
    plain: { 'xs-xobuilds': { 'manifest.sha1': '' } },
    upper: { 'XS-XOBUILDS': {} },
    none: { other: {} },
    twice: { 'xs-xobuilds': {}, 'XS-XOBUILDS': {} },
    link: { 'xs-xobuilds': t.fixture('symlink', '/etc') },
    file: { 'xs-xobuilds': 'not a folder' },
  })
  t.equal(await findBuildsDir(join(dir, 'plain')), join(dir, 'plain', 'xs-xobuilds'))
  t.equal(await findBuildsDir(join(dir, 'upper')), join(dir, 'upper', 'XS-XOBUILDS'))
  t.equal(await findBuildsDir(join(dir, 'none')), null)
  await t.rejects(findBuildsDir(join(dir, 'twice')),
    { name: 'XsError', code: 'E_MANIFEST', message: /XS-XOBUILDS, xs-xobuilds/ })
  await t.rejects(findBuildsDir(join(dir, 'link')), { code: 'E_MANIFEST', message: /symbolic link/ },
    'a symlink on the stick is never followed')
  await t.rejects(findBuildsDir(join(dir, 'file')), { code: 'E_MANIFEST', message: /not a directory/ })
  await t.rejects(findBuildsDir(join(dir, 'missing')), { code: 'E_IO' })
})
