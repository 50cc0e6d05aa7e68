// Run without root, a command that needs root says "run as root" (E_PERMISSION),
// not "damaged stick" or "disk error": a stick device (mounting needs root),
// a store owned by root, the keyring folder, and setup.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { ERROR_TABLE } from '@xs-rsync/core'
import { sampleBuild, stickOf } from '../packages/agent/test/lib/ingest-fixture.js'
import { attachLoop, ext4ImageOf } from './lib/stick-image.js'
import { XS_BIN } from './lib/xs-cli.js'

// nobody must be able to reach the files: a folder of its own under /tmp, not the fixtures
const dir = mkdtempSync('/tmp/xs-rsync-non-root-')
chmodSync(dir, 0o755)
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

const asNobody = (args: string[]) =>
  spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, XS_BIN, ...args, '--no-syslog'],
    { encoding: 'utf8', timeout: 120_000, cwd: dir })

t.test('without root: E_PERMISSION and "run as root", never a stick or disk problem', async (t) => {
  const store = join(dir, 'store')
  mkdirSync(join(store, 'xobuilds-packed'), { recursive: true })
  mkdirSync(join(dir, 'keys'))
  const stick = stickOf(dir, [await sampleBuild(dir, '60')])
  spawnSync('chmod', ['-R', 'a+rX', dir])
  const dev = attachLoop(t, ext4ImageOf(join(dir, 'stick.img'), stick))
  const common = ['--root', store, '--rsyncd-conf', join(dir, 'rsyncd.conf')]
  const cases: [string, string[], RegExp][] = [
    ['a stick device', ['ingest', ...common, '--mount-base', join(dir, 'mnt'), dev], /is not mounted, and only root may read and mount a device/],
    ['a store owned by root', ['refresh', ...common], /EACCES: permission denied/],
    ['a stick folder into a store owned by root', ['ingest', ...common, '--security', 'permissive', '--keyring', join(dir, 'keys'), stick], /EACCES: permission denied/],
  ]
  for (const [what, args, re] of cases) {
    const r = asNobody(args)
    t.equal(r.status, ERROR_TABLE.E_PERMISSION.exit, `${what}: ${r.stderr}`)
    t.match(r.stderr, /FAILED: permission denied: /, what)
    t.match(r.stderr, re, what)
    t.match(r.stderr, /Run the command as root/, what)
    t.notMatch(r.stderr, /cannot mount the stick|read or write error|damaged|internal error/, what)
  }
})
