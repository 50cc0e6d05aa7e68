import t from 'tap'
import { fsPath, normalizeEntryPath, showPath } from '../src/entry-path.js'

const limits = { maxPathBytes: 64, maxDepth: 4 }

t.test('normalizeEntryPath keeps names inside the tree', async (t) => {
  const ok: [string, string][] = [
    ['./', ''], ['.', ''], ['./etc/passwd', 'etc/passwd'], ['etc//passwd', 'etc/passwd'], ['etc/./x/', 'etc/x'],
    ['.//a', 'a'], ['a/b/c/d', 'a/b/c/d'], ['..a/b..', '..a/b..'], ['...', '...'],
    // Backslashes and look-alike slashes are plain filename bytes on Linux: kept literally, no escape.
    ['dev-disk-by\\x2dlabel.swap', 'dev-disk-by\\x2dlabel.swap'], ['a\\..\\..\\etc', 'a\\..\\..\\etc'],
    ['uni\u00e2\u0088\u0095code', 'uni\u00e2\u0088\u0095code'], ['latin\xff\xfe', 'latin\xff\xfe'],
    ['with space', 'with space'], ['new\nline', 'new\nline'], ['tab\there', 'tab\there'],
  ]
  for (const [name, want] of ok) t.equal(normalizeEntryPath(name, limits), want, JSON.stringify(name))
})

t.test('normalizeEntryPath rejects escapes and absurd names', async (t) => {
  const bad: [string, RegExp][] = [
    ['/etc/passwd', /absolute/], ['//x', /absolute/], ['..', /"\.\."/], ['../x', /"\.\."/], ['a/../../x', /"\.\."/],
    ['./a/..', /"\.\."/], ['a/b/c/d/e', /deeper than 4/], ['x'.repeat(65), /longer than 64 bytes/],
    ['a\0b', /control/], ['esc\x1b[31m', /control/], ['cr\r', /control/], ['del\x7f', /control/],
  ]
  for (const [name, re] of bad) {
    t.throws(() => normalizeEntryPath(name, limits), { name: 'XsError', code: 'E_ARCHIVE_UNSAFE', message: re, entry: name }, JSON.stringify(name))
  }
  t.throws(() => normalizeEntryPath('n'.repeat(256), { maxPathBytes: 4096, maxDepth: 4 }), { message: /longer than 255 bytes/ })
})

t.test('fsPath and showPath', async (t) => {
  t.same(fsPath('/r', 'a/\xff'), Buffer.from([0x2f, 0x72, 0x2f, 0x61, 0x2f, 0xff]), 'byte-string paths keep their bytes')
  t.same(fsPath('/r', ''), Buffer.from('/r'))
  t.equal(showPath('uni\u00e2\u0088\u0095code'), '"uni\u2215code"')
  t.equal(showPath('new\nline'), '"new\\nline"')
})
