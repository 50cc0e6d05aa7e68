// `xs-rsync setup --prefix DIR` for real: what lands where, that the
// installed units pass systemd-analyze verify, that systemctl --root enabled
// the socket and the timer, that a second run changes nothing, and that
// --dry-run only prints.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseConfigText } from '@xs-rsync/core'
import { XS_BIN } from './lib/xs-cli.js'

const setup = (...args: string[]) =>
  spawnSync(process.execPath, [XS_BIN, 'setup', ...args], { encoding: 'utf8', timeout: 120_000 })

/** Every file under dir with its mtime, for "nothing changed". */
const snapshot = (dir: string): Map<string, number> => {
  const out = new Map<string, number>()
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      out.set(p, statSync(p, { throwIfNoEntry: false })?.mtimeMs ?? -1)
      if (e.isDirectory()) walk(p)
    }
  }
  walk(dir)
  return out
}

t.test('--dry-run prints the plan and writes nothing', async (t) => {
  const prefix = t.testdir({})
  const r = setup('--prefix', prefix, '--dry-run')
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, new RegExp(`^do {4}install ${prefix}/etc/systemd/system/xs-rsyncd\\.socket `, 'm'))
  t.match(r.stdout, /^skip {2}create system user xs-rsync/m)
  t.same(readdirSync(prefix), [])
})

t.test('installs everything, verifiably, and a second run changes nothing', async (t) => {
  const prefix = t.testdir({})
  const r = setup('--prefix', prefix)
  t.equal(r.status, 0, r.stderr)
  const units = join(prefix, 'etc/systemd/system')
  for (const f of ['xs-rsyncd.socket', 'xs-rsyncd@.service', 'xs-rsync-clean-tmp.service', 'xs-rsync-clean-tmp.timer', 'xs-rsync-ingest@.service']) {
    t.ok(existsSync(join(units, f)), f)
  }
  t.ok(existsSync(join(prefix, 'etc/udev/rules.d/90-xs-rsync.rules')))
  for (const d of ['xobuilds-packed', 'pub/builds', 'state', 'tmp']) t.ok(statSync(join(prefix, 'library/xs-rsync', d)).isDirectory(), d)
  t.ok(statSync(join(prefix, 'library/xs-rsync/state/rsyncd.lock')).isFile(), 'the daemon lock file exists before the first laptop')

  // the config and template are the commented shipped ones, and they agree with the units
  const conf = parseConfigText(readFileSync(join(prefix, 'etc/xs-rsync/xs-rsync.conf'), 'utf8'), 'xs-rsync.conf')
  t.same(conf, { rsyncdConf: '/etc/xs-rsync/rsyncd.conf', rsyncdTemplate: '/etc/xs-rsync/rsyncd.conf.in' })
  t.ok(existsSync(join(prefix, 'etc/xs-rsync/rsyncd.conf.in')))
  t.match(readFileSync(join(units, 'xs-rsyncd@.service'), 'utf8'), /^ExecStart=\/usr\/bin\/rsync --daemon --config=\/etc\/xs-rsync\/rsyncd\.conf$/m)
  t.match(readFileSync(join(units, 'xs-rsync-ingest@.service'), 'utf8'), new RegExp(`^ExecStart=${XS_BIN} ingest /dev/%I$`, 'm'),
    'the ingest unit runs this installation\'s program')

  // enabled the systemd way (systemctl --root)
  t.match(readlinkSync(join(units, 'sockets.target.wants/xs-rsyncd.socket')), /xs-rsyncd\.socket$/)
  t.match(readlinkSync(join(units, 'timers.target.wants/xs-rsync-clean-tmp.timer')), /xs-rsync-clean-tmp\.timer$/)

  // the installed units are valid as installed (the socket is checked next to its service)
  for (const u of ['xs-rsyncd.socket', 'xs-rsyncd@1.service', 'xs-rsync-clean-tmp.timer', 'xs-rsync-clean-tmp.service', 'xs-rsync-ingest@sdb1.service']) {
    const v = spawnSync('systemd-analyze', ['verify', join(units, u)], { encoding: 'utf8', timeout: 60_000 })
    t.equal(v.status, 0, `${u}: ${v.stderr}`)
    t.equal((v.stdout + v.stderr).trim(), '', `${u}: no complaint`)
  }

  const before = snapshot(prefix)
  const again = setup('--prefix', prefix)
  t.equal(again.status, 0, again.stderr)
  t.match(again.stderr, /everything was already in place/)
  t.same(snapshot(prefix), before, 'second run: not one file touched')
  t.notMatch(setup('--prefix', prefix, '--dry-run').stdout, /^do /m)
})

t.test('keeps the admin\'s config, puts back what was removed, follows the config', async (t) => {
  const prefix = t.testdir({})
  t.equal(setup('--prefix', prefix).status, 0)
  const confFile = join(prefix, 'etc/xs-rsync/xs-rsync.conf')
  writeFileSync(confFile, 'root = /srv/xs\nbackend = fakeroot\nrsyncd-conf = /etc/xs-rsync/rsyncd.conf\nrsyncd-template = /etc/xs-rsync/rsyncd.conf.in\n')
  rmSync(join(prefix, 'etc/udev/rules.d/90-xs-rsync.rules'))
  const r = setup('--prefix', prefix)
  t.equal(r.status, 0, r.stderr)
  t.match(readFileSync(confFile, 'utf8'), /^backend = fakeroot$/m, 'config kept')
  t.ok(existsSync(join(prefix, 'etc/udev/rules.d/90-xs-rsync.rules')), 'rule put back')
  t.ok(statSync(join(prefix, 'srv/xs/state/rsyncd.lock')).isFile(), 'store made where the config says')
  const svc = readFileSync(join(prefix, 'etc/systemd/system/xs-rsyncd@.service'), 'utf8')
  t.match(svc, /^ExecStart=\/usr\/bin\/fakeroot -i \/srv\/xs\/state\/fakeroot\.state -- \/usr\/bin\/rsync --daemon --config=\/etc\/xs-rsync\/rsyncd\.conf$/m)
  t.match(svc, /^ConditionPathExists=\/srv\/xs\/state\/fakeroot\.state$/m)
  t.match(readFileSync(join(prefix, 'etc/systemd/system/xs-rsync-ingest@.service'), 'utf8'), /^ReadWritePaths=\/srv\/xs /m)
})

t.test('refusals: a path systemd cannot take, setup as non-root', async (t) => {
  const prefix = t.testdir({})
  const bad = setup('--prefix', prefix, '--root', '/srv/x s')
  t.equal(bad.status, 3, 'E_CONFIG')
  t.match(bad.stderr, /FAILED: bad configuration: the store root "\/srv\/x s" cannot be used in a systemd unit/)
  t.same(readdirSync(prefix), [], 'nothing written')
  const user = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, XS_BIN, 'setup'],
    { encoding: 'utf8', timeout: 60_000 })
  t.equal(user.status, 9, 'E_PERMISSION')
  t.match(user.stderr, /FAILED: permission denied: setup changes the system: run it as root \(or with --dry-run.*Run the command as root/)
})
