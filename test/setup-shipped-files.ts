// The files setup installs, checked against what they must agree with: the
// rsync template against the publisher's built-in one (same safety settings;
// the differences are the documented classroom knobs), the config file against
// the config parser, and the admin guide's troubleshooting table against the
// error table.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ERROR_TABLE, parseConfigText } from '@xs-rsync/core'
import { DEFAULT_RSYNCD_TEMPLATE, renderRsyncdConf } from '@xs-rsync/publisher'

const REPO = join(import.meta.dirname, '..')
const SHARE = join(REPO, 'packages', 'xs-rsync', 'share')

/** rsyncd.conf global settings: key -> value, comments and blank lines dropped. */
const settings = (text: string): Map<string, string> => new Map(text.split('\n')
  .map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
  .map((l) => { const i = l.indexOf('='); return [l.slice(0, i).trim(), l.slice(i + 1).trim()] as [string, string] }))

t.test('the shipped rsync template = the built-in one + the classroom knobs', async (t) => {
  const shipped = settings(readFileSync(join(SHARE, 'rsyncd.conf.in'), 'utf8'))
  const builtIn = settings(DEFAULT_RSYNCD_TEMPLATE)
  const extra = new Map([['reverse lookup', 'no']])
  for (const [k, v] of builtIn) t.equal(shipped.get(k), v, `${k} as built in`)
  for (const [k, v] of shipped) if (!builtIn.has(k)) t.equal(extra.get(k), v, `${k}: a documented addition`)
  const text = renderRsyncdConf({ template: readFileSync(join(SHARE, 'rsyncd.conf.in'), 'utf8'), builds: [{ name: '45', path: '/r/pub/builds/45' }],
    root: '/r', backend: 'fake-super', uid: 998 })
  t.match(text, /^uid = 998$/m)
  t.match(text, /^lock file = \/r\/state\/rsyncd\.lock$/m)
  t.match(text, /^\[build-45\]$/m)
})

t.test('the shipped config file parses and names the units\' paths', async (t) => {
  const conf = parseConfigText(readFileSync(join(SHARE, 'xs-rsync.conf'), 'utf8'), 'xs-rsync.conf')
  t.same(conf, { rsyncdConf: '/etc/xs-rsync/rsyncd.conf', rsyncdTemplate: '/etc/xs-rsync/rsyncd.conf.in' })
  t.match(readFileSync(join(REPO, 'systemd', 'xs-rsyncd@.service'), 'utf8'), `--config=${conf.rsyncdConf}\n`)
})

t.test('the admin guide says what to do for every error code', async (t) => {
  const guide = readFileSync(join(REPO, 'docs', 'admin-guide.md'), 'utf8')
  for (const [code, info] of Object.entries(ERROR_TABLE)) {
    t.match(guide, new RegExp(`^\\| ${info.exit} \\| \`${code}\` \\| ${info.summary} \\| .{20,} \\|$`, 'm'), code)
  }
})
