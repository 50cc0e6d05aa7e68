import t from 'tap'
import { readFileSync } from 'node:fs'
import { ERROR_TABLE } from '../src/error-codes.js'
import { XsError, toXsError, describeError } from '../src/xs-error.js'

t.test('exit statuses are unique and never 0', async (t) => {
  const exits = Object.values(ERROR_TABLE).map((i) => i.exit)
  t.equal(new Set(exits).size, exits.length)
  t.notOk((exits as number[]).includes(0))
})

t.test('the README lists every code with its exit status and words', async (t) => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8')
  for (const [code, info] of Object.entries(ERROR_TABLE)) {
    t.ok(readme.includes(`| ${info.exit} | \`${code}\` | ${info.summary} | ${info.advice} |`), code)
  }
})

t.test('toXsError maps system errors', async (t) => {
  const sys = (code: string): NodeJS.ErrnoException => Object.assign(new Error(code), { code, path: '/x' })
  const cases: [unknown, string][] = [
    [sys('ENOSPC'), 'E_NO_SPACE'], [sys('ENOENT'), 'E_NOT_FOUND'], [sys('EIO'), 'E_IO'],
    [sys('EACCES'), 'E_IO'], [new Error('boom'), 'E_INTERNAL'], ['str', 'E_INTERNAL'],
    [new XsError('E_CHECKSUM', 'x'), 'E_CHECKSUM'],
  ]
  for (const [er, code] of cases) t.equal(toXsError(er).code, code, String(er))
  t.equal(toXsError(sys('ENOENT')).path, '/x')
})

t.test('describeError says what it means and what to do', async (t) => {
  const d = describeError(new XsError('E_CHECKSUM', '/s/a.tar.bz2: md5 is 1, expected 2'))
  t.equal(d, `build checksum does not match: /s/a.tar.bz2: md5 is 1, expected 2. ${ERROR_TABLE.E_CHECKSUM.advice}`)
})

t.test('an error with its own advice says that instead of its code\'s', async (t) => {
  const d = describeError(new XsError('E_NOT_FOUND', 'no key ABCD in /k', { advice: 'Check the fingerprint.' }), 'noc')
  t.equal(d, 'file or device not found: no key ABCD in /k. Check the fingerprint.')
})
