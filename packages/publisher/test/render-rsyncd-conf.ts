import t from 'tap'
import { DEFAULT_RSYNCD_TEMPLATE, renderRsyncdConf } from '../src/render-rsyncd-conf.js'

const base = { root: '/library/xs-rsync', backend: 'fake-super' as const, uid: 1000 }

t.test('default template, fake-super, two builds sorted', async (t) => {
  const text = renderRsyncdConf({ ...base, builds: [
    { name: '45', path: '/library/xs-rsync/pub/builds/45' },
    { name: '44', path: '/library/xs-rsync/pub/builds/44' },
  ] })
  t.match(text, /^use chroot = no$/m)
  t.match(text, /^read only = yes$/m)
  t.match(text, /^uid = 1000$/m)
  t.notMatch(text, /^gid/m)
  t.match(text, /^lock file = \/library\/xs-rsync\/state\/rsyncd\.lock$/m)
  t.match(text, /^refuse options = .*\bdelete\*.*\bcopy-links\b.*\bcopy-unsafe-links\b.*\bcopy-dirlinks\b.*\bkeep-dirlinks\b/m)
  t.match(text, /^syslog facility = user$/m)
  const modules = [...text.matchAll(/^\[(.*)\]$/gm)].map((m) => m[1])
  t.same(modules, ['build-44', 'build-45', 'builds'])
  t.match(text, '[build-44]\npath = /library/xs-rsync/pub/builds/44\ncomment = OS build 44\nread only = yes\nfake super = yes\n')
  t.match(text, '[builds]\npath = /library/xs-rsync/pub/builds\n')
  t.notMatch(text, /@ROOT@|@UID@/)
})

t.test('fakeroot backend: no fake super', async (t) => {
  const text = renderRsyncdConf({ ...base, backend: 'fakeroot', builds: [{ name: '44', path: '/r/pub/builds/44' }] })
  t.notMatch(text, /fake super/)
  t.match(text, /\[build-44\]/)
})

t.test('template file replaces the global part', async (t) => {
  const text = renderRsyncdConf({ ...base, template: 'motd file = /etc/motd\nlock file = @ROOT@/x.lock\nuid = @UID@', builds: [] })
  t.equal(text, 'motd file = /etc/motd\nlock file = /library/xs-rsync/x.lock\nuid = 1000\n\n[builds]\npath = /library/xs-rsync/pub/builds\n' +
    'comment = All published OS builds\nread only = yes\nfake super = yes\nexclude = /.trees/\n')
  t.ok(DEFAULT_RSYNCD_TEMPLATE.includes('@ROOT@'))
})

t.test('a hostile NAME never reaches the config', async (t) => {
  for (const name of ['x]\n[evil', 'a\npath = /', 'a b', '../etc', 'a=b', '.x', 'x#y']) {
    t.throws(() => renderRsyncdConf({ ...base, builds: [{ name, path: '/r/pub/builds/x' }] }), { code: 'E_BUILD_NAME' }, JSON.stringify(name))
  }
  t.throws(() => renderRsyncdConf({ ...base, builds: [{ name: 'a', path: '/r/a' }, { name: 'a', path: '/r/a' }] }), { code: 'E_BUILD_NAME' })
  t.throws(() => renderRsyncdConf({ ...base, builds: [{ name: 'a', path: '/r/a\n[x]' }] }), { code: 'E_CONFIG' })
  t.throws(() => renderRsyncdConf({ ...base, root: '/r\nuid = 0', builds: [] }), { code: 'E_CONFIG' })
  t.throws(() => renderRsyncdConf({ ...base, uid: -1, builds: [] }), { code: 'E_CONFIG' })
})

// rsync 3.5 expands %VAR% in values and joins a line ending in a backslash with the next
t.test('values rsync would rewrite are refused', async (t) => {
  const cases: [string, Partial<Parameters<typeof renderRsyncdConf>[0]>][] = [
    ['% in the root', { root: '/srv/%HOME%' }],
    ['% in a module path', { builds: [{ name: 'a', path: '/r/%PATH%/a' }] }],
    ['trailing backslash in a path', { builds: [{ name: 'a', path: '/r/a\\' }] }],
    ['trailing backslash in the root', { root: '/r\\' }],
    ['% in a comment', { builds: [{ name: 'a', path: '/r/a', comment: '100%' }] }],
  ]
  for (const [what, o] of cases) {
    t.throws(() => renderRsyncdConf({ ...base, builds: [], ...o }), { code: 'E_CONFIG' }, what)
  }
})

t.test('a root holding $ replacement patterns is written as it is', async (t) => {
  for (const root of ["/srv/$'", '/srv/$&', '/srv/$`x', '/srv/$$', '/srv/$1']) {
    const text = renderRsyncdConf({ ...base, root, builds: [] })
    t.ok(text.includes(`lock file = ${root}/state/rsyncd.lock\n`), root)
    t.ok(text.includes(`[builds]\npath = ${root}/pub/builds\n`), root)
  }
})
