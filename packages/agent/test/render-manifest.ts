import t from 'tap'
import { renderManifest } from '../src/render-manifest.js'

t.test('renders sha*sum text mode lines, sorted by name', async (t) => {
  const cases: [Parameters<typeof renderManifest>[0], string][] = [
    [[], ''],
    [[{ name: 'b.name', hash: 'bb' }, { name: 'a-tree.tar.bz2', hash: 'aa' }], 'aa  a-tree.tar.bz2\nbb  b.name\n'],
    [[{ name: 'B', hash: '1' }, { name: 'a', hash: '2' }], '1  B\n2  a\n'],
  ]
  for (const [entries, want] of cases) t.equal(renderManifest(entries), want)
})
