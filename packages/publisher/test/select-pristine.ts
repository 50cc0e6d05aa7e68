import t from 'tap'
import { choosePristine, servedEntries } from '../src/select-pristine.js'
import type { NodeKind, TreeNode } from '../src/tree-writer.js'

const meta = (mode: number) => ({ mode, uid: 0, gid: 0, devmajor: 0, devminor: 0, mtime: 0, size: 0 })
const tree = (entries: [string, NodeKind][]): Map<string, TreeNode> =>
  new Map(entries.map(([p, kind]) => [p, { kind, meta: meta(kind === 'dir' ? 0o40755 : 0o100644) }]))

t.test('choosePristine', async (t) => {
  const cases: [string, [string, NodeKind][], string | undefined][] = [
    ['no versions', [['', 'dir'], ['etc', 'dir']], undefined],
    ['empty pristine', [['', 'dir'], ['versions', 'dir'], ['versions/pristine', 'dir']], undefined],
    ['only files in pristine', [['', 'dir'], ['versions/pristine', 'dir'], ['versions/pristine/x', 'file']], undefined],
    ['symlink is not a dir', [['', 'dir'], ['versions/pristine', 'dir'], ['versions/pristine/a', 'symlink'], ['versions/pristine/b', 'dir']], 'versions/pristine/b'],
    ['byte order', [['', 'dir'], ['versions/pristine/b', 'dir'], ['versions/pristine/B', 'dir'], ['versions/pristine/\xe9', 'dir'], ['versions/pristine/a', 'dir']], 'versions/pristine/B'],
    ['nested dirs do not count', [['versions/pristine/z', 'dir'], ['versions/pristine/z/a', 'dir']], 'versions/pristine/z'],
  ]
  for (const [what, entries, want] of cases) t.equal(choosePristine(tree(entries)), want, what)
})

t.test('servedEntries', async (t) => {
  const nodes = tree([['', 'dir'], ['etc', 'dir'], ['versions', 'dir'], ['versions/pristine', 'dir'], ['versions/pristine/1', 'dir'],
    ['versions/pristine/1/etc', 'dir'], ['versions/pristine/1/etc/x', 'file'], ['versions/pristine/10', 'dir'], ['versionsx', 'file']])
  t.same(servedEntries(nodes, undefined).map((e) => e.path), ['', 'etc', 'versionsx'])
  t.same(servedEntries(nodes, 'versions/pristine/1').map((e) => e.path), ['', 'etc', 'etc/x'])
  t.equal(servedEntries(nodes, 'versions/pristine/1')[0]?.meta, nodes.get('versions/pristine/1')?.meta, 'root takes the pristine dir metadata')
})
