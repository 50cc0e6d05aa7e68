import t from 'tap'
import { parseConfigText, parseSize } from '../src/config.js'

t.test('parseSize', async (t) => {
  const cases: [string, number | undefined][] = [
    ['1048576', 1048576], ['512M', 512 * 1024 ** 2], ['2G', 2 * 1024 ** 3], ['2GiB', 2 * 1024 ** 3],
    ['10k', 10240], ['', undefined], ['-1', undefined], ['12X', undefined],
  ]
  for (const [s, want] of cases) t.equal(parseSize(s), want, JSON.stringify(s))
})

t.test('parseConfigText', async (t) => {
  t.same(parseConfigText('# c\nroot = /srv/x\n\nbackend=fakeroot\nreserve = 1G\n', 'f'), {
    root: '/srv/x', backend: 'fakeroot', reserveBytes: 1024 ** 3,
  })
  t.same(parseConfigText('allow-sha1 = yes\n', 'f'), { allowSha1: true })
  t.same(parseConfigText('allow-sha1 = No\n', 'f'), { allowSha1: false })
  const bad: [string, RegExp][] = [
    ['nope = 1', /f:1: unknown setting "nope"/],
    ['root = relative', /absolute path/],
    ['backend = chroot', /fake-super or fakeroot/],
    ['junk line', /f:1: expected "key = value"/],
    ['security = lax', /enforcing or permissive/],
    ['allow-sha1 = maybe', /must be yes or no/],
    ['root = /srv/%HOME%', /"%" or a trailing backslash/],
    ['root = /srv/x\\', /"%" or a trailing backslash/],
  ]
  for (const [text, re] of bad) {
    t.throws(() => parseConfigText(text, 'f'), { name: 'XsError', code: 'E_CONFIG', message: re }, text)
  }
})
