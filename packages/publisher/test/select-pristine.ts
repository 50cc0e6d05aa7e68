import t from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { choosePristine } from '../src/select-pristine.js'

const dir = t.testdir({})
let n = 0
/** A tree on disk: names ending in "/" are directories, the rest files (as the tree writer leaves them). */
const tree = (names: string[]): string => {
  const root = join(dir, `t${n++}`)
  mkdirSync(root)
  for (const name of names) {
    const p = Buffer.from(join(root, name), 'latin1')
    if (name.endsWith('/')) mkdirSync(p, { recursive: true })
    else writeFileSync(p, '')
  }
  return root
}

t.test('choosePristine', async (t) => {
  const cases: [string, string[], string | undefined][] = [
    ['no versions', ['etc/'], undefined],
    ['versions is a file', ['versions'], undefined],
    ['pristine is a file', ['versions/', 'versions/pristine'], undefined],
    ['empty pristine', ['versions/pristine/'], undefined],
    ['only files in pristine', ['versions/pristine/', 'versions/pristine/x'], undefined],
    ['a symlink stand-in is not a dir', ['versions/pristine/', 'versions/pristine/a', 'versions/pristine/b/'], 'versions/pristine/b'],
    ['byte order', ['versions/pristine/b/', 'versions/pristine/B/', 'versions/pristine/\xe9/', 'versions/pristine/a/'], 'versions/pristine/B'],
    ['non-UTF-8 bytes survive', ['versions/pristine/\xff\xfe/'], 'versions/pristine/\xff\xfe'],
    ['nested dirs do not count', ['versions/pristine/z/', 'versions/pristine/z/a/'], 'versions/pristine/z'],
  ]
  for (const [what, names, want] of cases) t.equal(choosePristine(tree(names)), want, what)
})
