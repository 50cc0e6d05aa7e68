import t from 'tap'
import { checkBuildName, isBuildName } from '../src/build-name.js'

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
