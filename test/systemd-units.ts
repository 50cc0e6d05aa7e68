// The systemd units, checked offline with `systemd-analyze verify`. verify
// insists the ExecStart binary exists and is executable, so each unit is
// verified as a copy with /usr/bin/xs-rsync rewritten to this repo's
// bin/xs-rsync.js. verify exits 0 on unknown keys and bad lines, so its
// output must also be empty.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const UNITS = join(import.meta.dirname, '..', 'systemd')
const BIN = join(import.meta.dirname, '..', 'packages', 'xs-rsync', 'bin', 'xs-rsync.js')
const units = readdirSync(UNITS).filter((f) => /\.(service|socket|target|timer)$/.test(f))

const rewrite = (text: string): string => text.replaceAll('/usr/bin/xs-rsync ', `${BIN} `)

/**
 * Verify unit `name` with text `text`, next to (rewritten copies of) all our
 * units, as a socket needs its service. A template is verified through
 * instance `instance`.
 */
const verify = (dir: string, name: string, text: string, instance = 'sdb1'): { status: number | null, output: string } => {
  for (const u of units) writeFileSync(join(dir, u), rewrite(readFileSync(join(UNITS, u), 'utf8')))
  writeFileSync(join(dir, name), rewrite(text))
  const unit = name.endsWith('@.service') ? name.replace('@.', `@${instance}.`) : name
  const r = spawnSync('systemd-analyze', ['verify', join(dir, unit)], { encoding: 'utf8', timeout: 60_000 })
  return { status: r.status, output: (r.stdout + r.stderr).trim() }
}

/** key=value lines of a unit, by section; repeated keys kept in order. */
const settings = (text: string): Map<string, string[]> => {
  const m = new Map<string, string[]>()
  let section = ''
  for (const line of text.split('\n')) {
    const s = /^\[(\w+)\]$/.exec(line)
    if (s?.[1] !== undefined) section = s[1]
    const kv = /^(\w+)=(.*)$/.exec(line)
    if (kv?.[1] !== undefined && kv[2] !== undefined) {
      const k = `${section}.${kv[1]}`
      m.set(k, [...(m.get(k) ?? []), kv[2]])
    }
  }
  return m
}

t.test('every unit passes systemd-analyze verify with no complaint', async (t) => {
  t.ok(units.includes('xs-rsync-ingest@.service'))
  const dir = t.testdir({})
  for (const u of units) {
    const r = verify(dir, u, readFileSync(join(UNITS, u), 'utf8'))
    t.equal(r.status, 0, `${u}: exit status`)
    t.equal(r.output, '', `${u}: no warnings`)
  }
})

t.test('the check can fail', async (t) => {
  const dir = t.testdir({})
  const good = readFileSync(join(UNITS, 'xs-rsync-ingest@.service'), 'utf8')
  t.match(verify(dir, 'xs-rsync-ingest@.service', good + 'Bogus=1\n').output, /Unknown key 'Bogus'/)
  t.match(verify(dir, 'xs-rsync-ingest@.service', good.replace('/usr/bin/xs-rsync ', '/nonexistent/xs-rsync ')).output,
    /not executable/)
})

t.test('the ingest unit: what udev starts and how it logs', async (t) => {
  const s = settings(readFileSync(join(UNITS, 'xs-rsync-ingest@.service'), 'utf8'))
  const want: Array<[string, string]> = [
    ['Unit.BindsTo', 'dev-%i.device'],
    ['Unit.After', 'dev-%i.device'],
    ['Service.Type', 'oneshot'],
    ['Service.ExecStart', '/usr/bin/xs-rsync ingest /dev/%I'],
    ['Service.SyslogFacility', 'user'],
    ['Service.SyslogIdentifier', 'xs-rsync'],
    ['Service.StandardOutput', 'journal'],
    ['Service.ProtectSystem', 'strict'],
    ['Service.PrivateNetwork', 'yes'],
    ['Service.NoNewPrivileges', 'yes'],
  ]
  for (const [k, v] of want) t.same(s.get(k), [v], k)
  t.match(s.get('Service.CapabilityBoundingSet')?.[0], /CAP_SYS_ADMIN/, 'mount needs CAP_SYS_ADMIN')
  t.ok(s.get('Service.DeviceAllow')?.includes('/dev/fuse rw'), 'fusefat needs /dev/fuse')
})

t.test('the watch unit: long-running, hears hot-plug events', async (t) => {
  const s = settings(readFileSync(join(UNITS, 'xs-rsync-watch.service'), 'utf8'))
  t.same(s.get('Service.ExecStart'), ['/usr/bin/xs-rsync watch'])
  t.same(s.get('Service.SyslogFacility'), ['user'])
  t.same(s.get('Service.SyslogIdentifier'), ['xs-rsync'])
  t.equal(s.get('Service.PrivateNetwork'), undefined, 'uevents only reach the host network namespace')
  t.match(s.get('Service.RestrictAddressFamilies')?.[0], /AF_NETLINK/)
  t.same(s.get('Service.IPAddressDeny'), ['any'])
})
