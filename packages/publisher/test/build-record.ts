import t from 'tap'
import { parseBuildRecord, readBuildRecord, readBuildRecords, removeBuildRecord, writeBuildRecord, type BuildRecord } from '../src/build-record.js'

const rec: BuildRecord = {
  name: '44', tree: '44@20260101T000000Z-abcdef', tarball: 'os44-tree.tar.bz2', md5: 'd41d8cd98f00b204e9800998ecf8427e',
  size: 10, mtimeMs: 1.5, ino: 7, md5FileHash: 'a', contentsHash: 'b', entries: 3, bytes: 4, publishedAt: '2026-01-01T00:00:00.000Z',
  backend: 'fake-super', extra: { signedAt: 5 },
}

t.test('round trip through the store', async (t) => {
  const dir = t.testdir({ 'notes.txt': 'x' })
  await writeBuildRecord(dir, rec)
  t.same(await readBuildRecord(dir, '44'), rec)
  t.same(await readBuildRecords(dir), [rec])
  t.equal(await readBuildRecord(dir, '45'), undefined)
  await removeBuildRecord(dir, '44')
  await removeBuildRecord(dir, '44')
  t.same(await readBuildRecords(dir), [])
})

t.test('bad records are refused', async (t) => {
  const bad: [string, unknown][] = [
    ['not json', '{'], ['array', []], ['missing md5', { ...rec, md5: undefined }], ['size string', { ...rec, size: '1' }],
    ['backend', { ...rec, backend: 'x' }], ['hostile name', { ...rec, name: 'a b', tree: 'a b@1' }],
    ['tree elsewhere', { ...rec, tree: '44@../../etc' }], ['tree of another', { ...rec, tree: '45@1' }], ['extra array', { ...rec, extra: [] }],
  ]
  for (const [what, v] of bad) {
    t.throws(() => parseBuildRecord(typeof v === 'string' ? v : JSON.stringify(v), '/s/44.json'), { code: 'E_CONFIG', message: /^\/s\/44\.json: / }, what)
  }
})
