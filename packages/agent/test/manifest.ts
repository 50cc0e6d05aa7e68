import t from 'tap'
import { badEntryName, parseManifest } from '../src/manifest.js'

const H1 = 'a'.repeat(40)
const H256 = 'B'.repeat(64)

t.test('badEntryName table', async (t) => {
  const table: Array<[string, RegExp | undefined]> = [
    ['build-44-tree.tar.bz2', undefined],
    ['44.name', undefined],
    ['.hidden', undefined],
    ['with space.txt', undefined],
    ['', /empty/],
    ['.', /"\." or "\.\."/],
    ['..', /"\." or "\.\."/],
    ['a/b', /"\/"/],
    ['../etc/passwd', /"\/"/],
    ['/etc/passwd', /"\/"/],
    ['a\\b', /"\\"/],
    ['a\tb', /control/],
    ['a\u007fb', /control/],
    ['a\rb', /control/],
    ['x'.repeat(256), /longer than 255/],
    ['é'.repeat(128), /longer than 255/],
  ]
  for (const [name, want] of table) {
    const got = badEntryName(name)
    if (want === undefined) t.equal(got, undefined, JSON.stringify(name))
    else t.match(got, want, JSON.stringify(name))
  }
})

t.test('parseManifest accepts sha1sum/sha256sum output', async (t) => {
  t.same(parseManifest(`${H1}  a.tar.bz2\n${H1.toUpperCase()} *a.name\n`, 'sha1', 'm'),
    [{ name: 'a.tar.bz2', hash: H1 }, { name: 'a.name', hash: H1 }])
  t.same(parseManifest(Buffer.from(`${H256}  x y.contents\r\n`), 'sha256', 'm'),
    [{ name: 'x y.contents', hash: H256.toLowerCase() }], 'CRLF, space in name, bytes')
  t.same(parseManifest(`${H256}  last-line-without-newline`, 'sha256', 'm'), [{ name: 'last-line-without-newline', hash: H256.toLowerCase() }])
})

t.test('parseManifest refuses anything else (E_MANIFEST naming the line)', async (t) => {
  const table: Array<[string, string | Uint8Array, 'sha1' | 'sha256', RegExp]> = [
    ['empty', '', 'sha1', /lists no files/],
    ['blank line', `${H1}  a\n\n`, 'sha1', /line 2: not a sha1sum line/],
    ['sha256 hash in sha1 manifest', `${H256}  a\n`, 'sha1', /line 1: not a sha1sum line/],
    ['sha1 hash in sha256 manifest', `${H1}  a\n`, 'sha256', /line 1: not a sha256sum line/],
    ['one space only, no marker', `${H1} a\n`, 'sha1', /not a sha1sum/],
    ['non-hex', `${'g'.repeat(40)}  a\n`, 'sha1', /not a sha1sum/],
    ['escaped name (sha1sum writes \\ first)', `\\${H1}  a\\nb\n`, 'sha1', /not a sha1sum/],
    ['BSD tag format', `SHA1 (a) = ${H1}\n`, 'sha1', /not a sha1sum/],
    ['path traversal', `${H1}  ../x\n`, 'sha1', /line 1: file name contains "\/"/],
    ['subfolder', `${H1}  a\n${H1}  sub/a\n`, 'sha1', /line 2: file name contains "\/"/],
    ['dot-dot', `${H1}  ..\n`, 'sha1', /"\." or "\.\."/],
    ['control char', `${H1}  a\u001bb\n`, 'sha1', /control character/],
    ['listed twice', `${H1}  a\n${H1} *a\n`, 'sha1', /line 2: a is listed twice/],
    ['not UTF-8', Buffer.concat([Buffer.from(`${H1}  a`), Buffer.from([0xff, 0xfe, 0x0a])]), 'sha1', /not UTF-8/],
  ]
  for (const [name, text, algo, message] of table) {
    t.throws(() => parseManifest(text, algo, 'manifest.x'), { name: 'XsError', code: 'E_MANIFEST', message }, name)
  }
})
