import t from 'tap'
import { checkBuildName, isBuildName, parseNameFile } from '../src/build-name.js'

const OK = ['44', 'os860', 'a', 'Build_13.2.10-en.x86', 'A'.repeat(64), 'v1.2', 'x-']
const BAD = [
  '', ' 44', '44 ', 'has space', 'a]b', 'a[b', 'line\nbreak', 'a/b', '/abs', 'a=b', 'a#b', 'a;b', '.hidden', '-dash',
  '_under', 'a..b', '..', 'A'.repeat(65), 'caf\u00e9', 'a\0b', 'a\tb', 'a@b', 'a$b', 'a\rb', '\u0661\u0662',
]

t.test('allowed names', async (t) => {
  for (const n of OK) {
    t.ok(isBuildName(n), n)
    t.equal(checkBuildName(n), n)
  }
})

t.test('hostile or odd names are refused with E_BUILD_NAME naming the file', async (t) => {
  for (const n of BAD) {
    t.notOk(isBuildName(n), JSON.stringify(n))
    t.throws(() => checkBuildName(n, '/stick/os44.name'), { name: 'XsError', code: 'E_BUILD_NAME', message: /^\/stick\/os44\.name: / })
  }
})

t.test('parseNameFile: exactly one non-empty line (table)', async (t) => {
  const ok: [string, string][] = [['44\n', '44'], ['44', '44'], ['44\r\n', '44'], [' 44 \n', '44'], ['os860\n', 'os860']]
  for (const [text, want] of ok) t.equal(parseNameFile(text, '/s/os44.name'), want, JSON.stringify(text))
  const bad: [string, RegExp][] = [
    ['', /build name "" is not allowed/],
    ['\n', /build name "" is not allowed/],
    ['44\n45\n', /os44\.name holds 2 lines; a \.name file holds exactly one line/],
    ['44\n\n', /holds 2 lines/],
    ['44\r\n\r\n', /holds 2 lines/],
    ['44\nDONE: fake\n', /holds 2 lines/],
    ['\n44\n', /build name "" is not allowed/],
    ['45]\n[root]\n', /build name "45\]" is not allowed/],
  ]
  for (const [text, message] of bad) {
    t.throws(() => parseNameFile(text, '/s/os44.name'), { name: 'XsError', code: 'E_BUILD_NAME', message }, JSON.stringify(text))
  }
})
