// setup's pure parts: rendering the shipped units for a config, the plan
// against an observed machine, and the --dry-run text. Table-driven.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { DEFAULT_CONFIG, type XsConfig } from '@xs-rsync/core'
import { execStartOf, renderUnit, SHIPPED, unitPath, type UnitParams } from '../packages/xs-rsync/src/setup/render-unit.js'
import { planSetup, type ObservedState, type SetupInput } from '../packages/xs-rsync/src/setup/setup-plan.js'
import { renderPlan } from '../packages/xs-rsync/src/setup/render-plan.js'

const UNITS = join(import.meta.dirname, '..', 'systemd')
const service = readFileSync(join(UNITS, 'xs-rsyncd@.service'), 'utf8')
const ingest = readFileSync(join(UNITS, 'xs-rsync-ingest@.service'), 'utf8')
const clean = readFileSync(join(UNITS, 'xs-rsync-clean-tmp.service'), 'utf8')
const params: UnitParams = { bin: '/usr/local/lib/node_modules/xs-rsync/bin/xs-rsync.js', root: SHIPPED.root, rsyncdConf: SHIPPED.rsyncdConf, backend: 'fake-super' as const }

t.test('renderUnit: shipped defaults leave the unit as it is, bar the header', async (t) => {
  const out = renderUnit('xs-rsyncd@.service', service, params)
  t.match(out, /^# Installed by "xs-rsync setup" \(store \/library\/xs-rsync, backend fake-super\)/)
  t.equal(out.slice(out.indexOf('\n', out.indexOf('\n') + 1) + 1), service)
  t.same(execStartOf(out), ['/usr/bin/rsync', '--daemon', '--config=/etc/xs-rsync/rsyncd.conf'])
})

t.test('renderUnit: paths and program replaced everywhere', async (t) => {
  const cases: Array<[string, string, Partial<typeof params>, RegExp[], RegExp[]]> = [
    ['ingest: program', ingest, {}, [/^ExecStart=\/usr\/local\/lib\/node_modules\/xs-rsync\/bin\/xs-rsync\.js ingest \/dev\/%I$/m], [/\/usr\/bin\/xs-rsync /]],
    ['ingest: store', ingest, { root: '/srv/xs' }, [/^ReadWritePaths=\/srv\/xs -\/etc\/xs-rsync$/m], [/\/library\/xs-rsync/]],
    ['daemon: store and config', service, { root: '/srv/xs/', rsyncdConf: '/etc/xs/rsyncd.conf' },
      [/^ReadOnlyPaths=\/srv\/xs$/m, /^ReadWritePaths=-\/srv\/xs\/state\/rsyncd\.lock$/m, /--config=\/etc\/xs\/rsyncd\.conf$/m], [/\/library\//, /^ExecStart=.*fakeroot/m, /^ConditionPathExists/m]],
    ['daemon: config inside the old store path is not replaced twice', service, { root: '/srv/xs', rsyncdConf: '/library/xs-rsync/rsyncd.conf' },
      [/--config=\/library\/xs-rsync\/rsyncd\.conf$/m, /^ReadOnlyPaths=\/srv\/xs$/m], []],
    ['daemon: fakeroot backend', service, { backend: 'fakeroot', root: '/srv/xs' },
      [/^ExecStart=\/usr\/bin\/fakeroot -i \/srv\/xs\/state\/fakeroot\.state -- \/usr\/bin\/rsync --daemon --config=\/etc\/xs-rsync\/rsyncd\.conf$/m,
        /^\[Unit\]\nConditionPathExists=\/srv\/xs\/state\/fakeroot\.state$/m], []],
    ['clean-tmp: store', clean, { root: '/srv/xs' }, [/flock .* \/srv\/xs\/state\/xs-rsync\.lock .*find \/srv\/xs\/tmp /, /^ReadWritePaths=\/srv\/xs\/tmp$/m], [/\/library\//]],
  ]
  for (const [name, text, p, want, never] of cases) {
    const out = renderUnit(name.startsWith('daemon') ? 'xs-rsyncd@.service' : 'x.service', text, { ...params, ...p })
    for (const re of want) t.match(out, re, `${name}: ${re}`)
    for (const re of never) t.notMatch(out, re, `${name}: not ${re}`)
  }
})

t.test('renderUnit: a path systemd would split, expand or unquote is refused', async (t) => {
  for (const bad of ['relative/x', '/a b', '/a%i', '/a$HOME', '/a"b', "/a'b", '/a\\b', '/a/../etc', '/a\nExecStart=/bin/sh', '', '/']) {
    t.throws(() => renderUnit('xs-rsyncd@.service', service, { ...params, root: bad }), { code: 'E_CONFIG' }, JSON.stringify(bad))
    t.throws(() => unitPath(bad, 'x'), { code: 'E_CONFIG' })
  }
  t.throws(() => renderUnit('xs-rsyncd@.service', service.replace('ExecStart=/usr/bin/rsync', 'ExecStart=/bin/true'), { ...params, backend: 'fakeroot' }),
    { code: 'E_INTERNAL' }, 'a shipped unit without the marker is a packaging bug, not silently left as fake-super')
})

const assets = {
  units: new Map([['xs-rsyncd@.service', service], ['xs-rsyncd.socket', '[Socket]\n']]),
  udevRules: new Map([['90-xs-rsync.rules', 'ACTION=="add"\n']]),
  config: '# settings\n',
  rsyncdTemplate: 'use chroot = no\n',
}
const config: XsConfig = { ...DEFAULT_CONFIG, rsyncdConf: '/etc/xs-rsync/rsyncd.conf', rsyncdTemplate: '/etc/xs-rsync/rsyncd.conf.in' }
const base = { config, configFile: '/etc/xs-rsync/xs-rsync.conf', bin: params.bin, assets }
const nothing: ObservedState = { paths: new Map(), systemd: true, udev: true }
const USER = { uid: 998, gid: 997 }

/** The observed state of a machine where `plan` has been applied (files as written, owners as asked). */
const applied = (input: Omit<SetupInput, 'observed'>, over: Partial<ObservedState> = {}): ObservedState => {
  const paths = new Map<string, { dir: boolean, mode: number, uid: number, gid: number, text?: string }>()
  for (const { step } of planSetup({ ...input, observed: nothing })) {
    const ids = 'owner' in step && step.owner === 'service' ? USER : { uid: 0, gid: 0 }
    if (step.kind === 'dir') paths.set(step.path, { dir: true, mode: step.mode, ...ids })
    if (step.kind === 'file') paths.set(step.path, { dir: false, mode: step.mode, ...ids, text: step.text })
    if (step.kind === 'rsyncd-conf') paths.set(step.path, { dir: false, mode: 0o644, uid: 0, gid: 0, text: '' })
    if (step.kind === 'enable') {
      for (const w of ['sockets.target.wants/xs-rsyncd.socket', 'timers.target.wants/xs-rsync-clean-tmp.timer']) {
        paths.set(`/etc/systemd/system/${w}`, { dir: false, mode: 0o777, uid: 0, gid: 0 })
      }
    }
  }
  return { paths, user: USER, systemd: true, udev: true, ...over }
}

const statuses = (input: SetupInput): string[] =>
  planSetup(input).map(({ step, status }) => `${status} ${step.kind}${'path' in step ? ' ' + step.path : ''}`)

t.test('planSetup: a fresh server gets everything, in order', async (t) => {
  const plan = planSetup({ ...base, prefix: '', observed: nothing })
  t.ok(plan.every((p) => p.status === 'do'), renderPlan(plan, ''))
  const kinds = plan.map((p) => p.step.kind)
  t.equal(kinds[0], 'user', 'the user first: the store is handed to it')
  t.ok(kinds.indexOf('daemon-reload') < kinds.indexOf('enable'), 'reload before enable')
  t.equal(kinds.at(-1), 'rsyncd-conf')
  const paths = plan.flatMap(({ step }) => ('path' in step ? [step.path] : []))
  for (const p of ['/library/xs-rsync', '/library/xs-rsync/tmp', '/library/xs-rsync/state/rsyncd.lock', '/etc/xs-rsync/keys',
    '/etc/xs-rsync/xs-rsync.conf', '/etc/xs-rsync/rsyncd.conf.in', '/etc/systemd/system/xs-rsyncd@.service',
    '/etc/udev/rules.d/90-xs-rsync.rules']) t.ok(paths.includes(p), p)
  const store = plan.find(({ step }) => step.kind === 'dir' && step.path === '/library/xs-rsync')
  t.match(store?.step, { owner: 'service', mode: 0o755, createOnly: false })
})

t.test('planSetup: idempotent, and only what differs is redone', async (t) => {
  const input = { ...base, prefix: '' }
  const done = applied(input)
  t.same(statuses({ ...input, observed: done }).filter((s) => !s.startsWith('ok')), [], 'a second run does nothing')

  const cases: Array<[string, (p: Map<string, any>) => void, string[]]> = [
    ['a unit edited by hand is replaced, systemd reloaded', (p) => { p.get('/etc/systemd/system/xs-rsyncd@.service').text = 'x' },
      ['do file /etc/systemd/system/xs-rsyncd@.service', 'do daemon-reload']],
    ['the udev rule removed: back, udev reloaded', (p) => { p.delete('/etc/udev/rules.d/90-xs-rsync.rules') },
      ['do file /etc/udev/rules.d/90-xs-rsync.rules', 'do udev-reload']],
    ['the admin\'s config is kept', (p) => { p.get('/etc/xs-rsync/xs-rsync.conf').text = 'backend = fakeroot\n' }, []],
    ['store handed to someone else: handed back', (p) => { p.get('/library/xs-rsync/tmp').uid = 0 }, ['do dir /library/xs-rsync/tmp']],
    ['store mode changed: fixed', (p) => { p.get('/library/xs-rsync').mode = 0o700 }, ['do dir /library/xs-rsync']],
    ['a shared folder with its own mode is left alone', (p) => { p.get('/etc/systemd/system').mode = 0o750 }, []],
    ['socket disabled: enabled again', (p) => { p.delete('/etc/systemd/system/sockets.target.wants/xs-rsyncd.socket') }, ['do enable']],
  ]
  for (const [name, change, want] of cases) {
    const paths = new Map([...done.paths].map(([k, v]) => [k, { ...v }]))
    change(paths)
    t.same(statuses({ ...input, observed: { ...done, paths } }).filter((s) => !s.startsWith('ok')), want, name)
  }
  const kept = new Map([...done.paths].map(([k, v]) => [k, { ...v }]))
  kept.get('/etc/xs-rsync/xs-rsync.conf')!.text = 'backend = fakeroot\n'
  t.match(renderPlan(planSetup({ ...input, observed: { ...done, paths: kept } }), ''),
    /^ok {4}install once \/etc\/xs-rsync\/xs-rsync\.conf .* - kept as it is/m)
})

t.test('planSetup: under --prefix nothing touches the running system', async (t) => {
  const plan = planSetup({ ...base, prefix: '/tmp/p', observed: { ...nothing, systemd: false, udev: false } })
  const text = renderPlan(plan, '/tmp/p')
  t.match(text, /^skip {2}create system user xs-rsync/m)
  t.match(text, /^skip {2}generate the rsync config \/tmp\/p\/etc\/xs-rsync\/rsyncd\.conf/m)
  t.match(text, /^do {4}enable xs-rsyncd\.socket, xs-rsync-clean-tmp\.timer \(systemctl --root=\/tmp\/p\)$/m)
  t.notMatch(text, /daemon-reload|udevadm/)
  t.match(text, /^do {4}folder \/tmp\/p\/library\/xs-rsync \(0755, xs-rsync\)$/m)
})

t.test('planSetup: without systemd or udev running, no reloads and no start', async (t) => {
  const text = renderPlan(planSetup({ ...base, prefix: '', observed: { ...nothing, systemd: false, udev: false } }), '')
  t.match(text, /^skip {2}reload systemd .* - systemd is not running$/m)
  t.match(text, /^skip {2}reload udev rules .* - udev is not running$/m)
  t.match(text, /^do {4}enable xs-rsyncd\.socket, xs-rsync-clean-tmp\.timer$/m)
})

t.test('setupWarnings: an rsync config the stick job could not replace is flagged', async (t) => {
  const { setupWarnings, writablePaths } = await import('../packages/xs-rsync/src/setup/setup-warnings.js')
  t.same(writablePaths('ReadWritePaths=/a -/b\nReadWritePaths=-/c\nX=1\n'), ['/a', '/b', '/c'])
  const withIngest = { ...assets, units: new Map([...assets.units, ['xs-rsync-ingest@.service', ingest]]) }
  const cases: Array<[string, Partial<XsConfig>, boolean]> = [
    ['shipped: /etc/xs-rsync/rsyncd.conf', {}, false],
    ['inside the store', { rsyncdConf: '/library/xs-rsync/state/rsyncd.conf' }, false],
    ['inside a moved store', { root: '/srv/xs', rsyncdConf: '/srv/xs/rsyncd.conf' }, false],
    ['the old default /etc/xs-rsyncd.conf', { rsyncdConf: '/etc/xs-rsyncd.conf' }, true],
    ['a look-alike folder', { rsyncdConf: '/etc/xs-rsync2/rsyncd.conf' }, true],
  ]
  for (const [name, c, warn] of cases) {
    const w = setupWarnings({ ...base, assets: withIngest, config: { ...config, ...c } })
    t.equal(w.length, warn ? 1 : 0, name)
    if (warn) t.match(w[0], /the stick job may only write .*set rsyncd-conf = \/etc\/xs-rsync\/rsyncd\.conf/)
  }
})

t.test('planSetup: with the Debian package, its units and rule in /lib are used, not copied to /etc', async (t) => {
  // the package's units name /usr/bin/xs-rsync, which is then what setup renders with
  const input = { ...base, bin: SHIPPED.bin, prefix: '' }
  const pkg = new Map(applied(input).paths)
  for (const [dir, libDir, texts] of [['/etc/systemd/system', '/lib/systemd/system', assets.units], ['/etc/udev/rules.d', '/lib/udev/rules.d', assets.udevRules]] as const) {
    for (const [name, text] of texts) {
      pkg.delete(`${dir}/${name}`)
      pkg.set(`${libDir}/${name}`, { dir: false, mode: 0o644, uid: 0, gid: 0, text })
    }
  }
  const observed = { ...applied(input), paths: pkg }
  const plan = planSetup({ ...input, observed })
  t.same(statuses({ ...input, observed }).filter((s) => !s.startsWith('ok')), ['skip enable'], 'nothing to write; enabling is the package\'s job')
  t.match(renderPlan(plan, ''), /^ok {4}install once \/lib\/systemd\/system\/xs-rsyncd@\.service \(systemd unit from the Debian package/m)
  t.match(renderPlan(plan, ''), /^skip {2}enable .* - the Debian package enables them/m)

  const cases: Array<[string, (p: Map<string, any>) => void, Partial<SetupInput>, string[]]> = [
    ['a copy an earlier (tarball) setup wrote is removed, so the package\'s next version is used',
      (p) => p.set('/etc/systemd/system/xs-rsyncd@.service', { dir: false, mode: 0o644, uid: 0, gid: 0, text: renderUnit('xs-rsyncd@.service', service, { ...params, bin: SHIPPED.bin }) }),
      {}, ['do remove /etc/systemd/system/xs-rsyncd@.service', 'do daemon-reload', 'skip enable']],
    ['the admin\'s own full unit in /etc (no setup header) is left alone',
      (p) => p.set('/etc/systemd/system/xs-rsyncd@.service', { dir: false, mode: 0o644, uid: 0, gid: 0, text: '[Service]\nExecStart=/bin/mine\n' }),
      {}, ['skip enable']],
    ['another store root: the units that name it get a rendered copy in /etc',
      () => {}, { config: { ...config, root: '/srv/xs' } },
      ['do file /etc/systemd/system/xs-rsyncd@.service', 'do daemon-reload']],
  ]
  for (const [name, change, over, want] of cases) {
    const paths = new Map([...pkg].map(([k, v]) => [k, { ...v }]))
    change(paths)
    const got = statuses({ ...input, ...over, observed: { ...observed, paths } }).filter((s) => !s.startsWith('ok') && !/ \/srv\/xs/.test(s) && !s.startsWith('do rsyncd'))
    t.same(got, want, name)
  }
})
