// The Debian package: scripts/make-deb.sh builds it offline from this
// checkout; its metadata, contents and maintainer scripts are what a Debian
// admin expects, the bundled program runs from the unpacked package, and
// lintian (when installed) reports no errors. The system test
// (test/system/) installs the same package in a booted Debian 12.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'

const REPO = join(import.meta.dirname, '..')
const run = (cmd: string, args: string[], timeout = 120_000) => spawnSync(cmd, args, { encoding: 'utf8', timeout, maxBuffer: 1 << 26 })
const has = (cmd: string): boolean => run('sh', ['-c', `command -v ${cmd}`]).status === 0

t.test('make-deb.sh builds xs-rsync_VERSION_all.deb', async (t) => {
  const dir = t.testdir({})
  const made = run('bash', [join(REPO, 'scripts', 'make-deb.sh'), '--no-build', dir], 300_000)
  t.equal(made.status, 0, made.stderr)
  const version = JSON.parse(readFileSync(join(REPO, 'packages/xs-rsync/package.json'), 'utf8')).version as string
  const deb = made.stdout.trim().split('\n').at(-1) ?? ''
  t.equal(deb, join(dir, `xs-rsync_${version}_all.deb`))
  const field = (f: string): string => run('dpkg-deb', ['-f', deb, f]).stdout.trim()

  t.test('control: name, version, arch, Depends and Recommends', async (t) => {
    t.equal(field('Package'), 'xs-rsync')
    t.equal(field('Version'), version)
    t.equal(field('Architecture'), 'all')
    const deps = field('Depends').split(/,\s*/)
    t.same(deps.map((d) => d.replace(/ \(.*\)$/, '')),
      ['nodejs', 'rsync', 'fakeroot', 'attr', 'lbzip2 | bzip2', 'xz-utils', 'mount', 'util-linux'])
    t.ok(deps.includes('nodejs (>= 18)'), 'the oldest Node it runs on is Debian 12\'s 18')
    t.same(field('Recommends').split(/,\s*/), ['rsyslog', 'gnupg', 'fusefat'])
    t.notMatch(field('Depends'), /usb|drivelist/)
  })

  const x = join(dir, 'x')
  const ex = run('dpkg-deb', ['-R', deb, x])
  t.equal(ex.status, 0, ex.stderr)
  const listing = run('dpkg-deb', ['-c', deb]).stdout
  const paths = new Set(listing.split('\n').filter(Boolean).map((l) => l.replace(/^.*? \.\//, '/').replace(/ -> .*$/, '').replace(/\/$/, '')))

  t.test('contents: program, bundled deps, units, rule, conffiles, man page, completion, docs', async (t) => {
    for (const p of [
      '/usr/lib/xs-rsync/bin/xs-rsync.js', '/usr/lib/xs-rsync/dist/cli.js',
      '/usr/lib/xs-rsync/node_modules/@xs-rsync/core/dist/index.js',
      '/usr/lib/xs-rsync/node_modules/@xs-rsync/publisher/dist/index.js',
      '/usr/lib/xs-rsync/node_modules/@xs-rsync/agent/dist/index.js',
      '/usr/lib/xs-rsync/node_modules/openpgp/package.json', '/usr/lib/xs-rsync/node_modules/tar-stream/package.json',
      '/usr/lib/xs-rsync/node_modules/seek-bzip/package.json',
      '/usr/bin/xs-rsync', '/usr/bin/xs-refresh-xobuilds', '/usr/bin/xs-publish-xobuild', '/usr/bin/xs-unpack-xobuild',
      '/lib/systemd/system/xs-rsyncd.socket', '/lib/systemd/system/xs-rsyncd@.service',
      '/lib/systemd/system/xs-rsync-ingest@.service', '/lib/systemd/system/xs-rsync-clean-tmp.timer',
      '/lib/udev/rules.d/90-xs-rsync.rules',
      '/etc/xs-rsync/xs-rsync.conf', '/etc/xs-rsync/rsyncd.conf.in', '/etc/xs-rsync/keys',
      '/usr/share/man/man1/xs-rsync.1.gz', '/usr/share/bash-completion/completions/xs-rsync',
      '/usr/share/doc/xs-rsync/README.md', '/usr/share/doc/xs-rsync/admin-guide.md', '/usr/share/doc/xs-rsync/copyright',
      '/usr/share/doc/xs-rsync/changelog.gz',
    ]) t.ok(paths.has(p), p)
    t.notOk([...paths].some((p) => /node_modules\/(usb|drivelist|tap|typescript|tsx|@types)(\/|$)/.test(p)), 'no optional native or dev deps')
    t.notOk([...paths].some((p) => /\.(ts|map)$/.test(p) && !p.endsWith('.d.ts')), 'no sources or maps')
    t.notOk([...paths].some((p) => p.startsWith('/etc/systemd') || p.startsWith('/etc/udev')), '/etc is left to the admin')
    t.equal(readlinkSync(join(x, 'usr/bin/xs-rsync')), '../lib/xs-rsync/bin/xs-rsync.js')
    for (const u of ['xs-rsyncd.socket', 'xs-rsyncd@.service', 'xs-rsync-ingest@.service']) {
      t.equal(readFileSync(join(x, 'lib/systemd/system', u), 'utf8'), readFileSync(join(REPO, 'systemd', u), 'utf8'), `${u} as in systemd/`)
    }
    t.same(readFileSync(join(x, 'DEBIAN/conffiles'), 'utf8').trim().split('\n'), ['/etc/xs-rsync/rsyncd.conf.in', '/etc/xs-rsync/xs-rsync.conf'])
    const man = run('sh', ['-c', `zcat '${join(x, 'usr/share/man/man1/xs-rsync.1.gz')}'`]).stdout
    t.match(man, /^\.TH XS\\-RSYNC 1 /m)
    t.match(man, /^\.SH EXIT STATUS$/m)
    const completion = run('bash', ['-n', join(x, 'usr/share/bash-completion/completions/xs-rsync')])
    t.equal(completion.status, 0, `completion parses: ${completion.stderr}`)
    const copyright = readFileSync(join(x, 'usr/share/doc/xs-rsync/copyright'), 'utf8')
    t.match(copyright, /^Format: https:\/\/www\.debian\.org\/doc\/packaging-manuals\/copyright-format\/1\.0\/$/m)
    t.match(copyright, /^Files: \*\nCopyright: .*\nLicense: GPL-2\.0-or-later$/m)
    t.match(copyright, /^Files: usr\/lib\/xs-rsync\/node_modules\/openpgp\/\*$/m, 'bundled modules have their paragraph')
  })

  t.test('maintainer scripts: the Debian way, and the store survives purge unless asked', async (t) => {
    const postinst = readFileSync(join(x, 'DEBIAN/postinst'), 'utf8')
    const postrm = readFileSync(join(x, 'DEBIAN/postrm'), 'utf8')
    for (const f of ['postinst', 'prerm', 'postrm']) {
      const sh = run('sh', ['-n', join(x, 'DEBIAN', f)])
      t.equal(sh.status, 0, `${f} parses`)
    }
    t.match(postinst, /deb-systemd-helper enable "\$unit"/)
    t.match(postinst, /UNITS="xs-rsyncd\.socket xs-rsync-clean-tmp\.timer"/)
    t.match(postinst, /xs-rsync setup/)
    t.match(postrm, /"\$1" = purge/)
    t.match(postrm, /rm -rf \/etc\/xs-rsync/)
    t.match(postrm, /userdel xs-rsync/)
    t.match(postrm, /if \[ "\$purge_store" = yes \]/, 'the store only goes when asked')
    const lines = postrm.split('\n')
    const removal = lines.findIndex((l) => /rm -rf .*"\$store"/.test(l))
    t.ok(removal > 0, 'postrm can remove the store')
    t.match(lines[removal - 1] ?? '', /^\s*if \[ "\$purge_store" = yes \]/, 'only when asked')
    t.match(postrm, /XS_RSYNC_PURGE_STORE:-\}" = yes \] \|\| \[ -e \/etc\/xs-rsync\/purge-store \]/, 'asked by env or flag file')
  })

  t.test('the unpacked program runs: --help, --version, setup --dry-run finds the packaged units', async (t) => {
    const bin = join(x, 'usr/lib/xs-rsync/bin/xs-rsync.js')
    const v = run(process.execPath, [bin, '--version'])
    t.equal(v.status, 0, v.stderr)
    t.equal(v.stdout.trim(), version)
    const dry = run(process.execPath, [bin, 'setup', '--prefix', x, '--dry-run', '--no-syslog'])
    t.equal(dry.status, 0, dry.stderr)
    t.match(dry.stdout, /^ok\s+install once .*\/lib\/systemd\/system\/xs-rsyncd\.socket \(systemd unit from the Debian package/m)
    t.match(dry.stdout, /^ok\s+install once .*\/lib\/udev\/rules\.d\/90-xs-rsync\.rules \(udev rule from the Debian package/m)
    t.notMatch(dry.stdout, /install \S*\/etc\/systemd\/system\//, 'no copies of the units in /etc')
    t.match(dry.stdout, /^skip\s+enable xs-rsyncd\.socket, xs-rsync-clean-tmp\.timer.* - the Debian package enables them/m)
  })

  t.test('lintian: no errors', { skip: has('lintian') ? false : 'lintian is not installed' }, async (t) => {
    const l = run('lintian', ['--no-tag-display-limit', deb], 300_000)
    const errors = l.stdout.split('\n').filter((s) => s.startsWith('E: '))
    t.same(errors, [], `lintian:\n${l.stdout}${l.stderr}`)
    t.ok(l.status === 0 || l.status === 1, `lintian ran (exit ${l.status}): ${l.stderr}`)
  })
})
