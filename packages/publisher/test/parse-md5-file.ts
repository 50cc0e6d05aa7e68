import t from 'tap'
import { parseMd5File } from '../src/parse-md5-file.js'

const H = 'd41d8cd98f00b204e9800998ecf8427e'

t.test('md5sum output forms', async (t) => {
  const cases: [string, string][] = [
    [`${H}  os44-tree.tar.bz2\n`, H],
    [`${H} *os44-tree.tar.bz2\n`, H],
    [`${H}  some/other/name.tar.bz2\r\n`, H],
    [`${H.toUpperCase()}\n`, H],
    [`\n${H}  x\n\n`, H],
    [`${H}\tfile with spaces.tar.bz2`, H],
  ]
  for (const [text, want] of cases) t.equal(parseMd5File(text, 'x.md5'), want, JSON.stringify(text))
})

t.test('malformed md5 files', async (t) => {
  for (const text of ['', '\n', `${H.slice(1)}  x`, `${H}0  x`, `zz${H.slice(2)}  x`, `${H}  a\n${H}  b\n`, 'sha1 stuff', `${H}x`]) {
    t.throws(() => parseMd5File(text, '/p/x.md5'), { code: 'E_BUILD_INCOMPLETE', message: /\/p\/x\.md5/ }, JSON.stringify(text))
  }
})
