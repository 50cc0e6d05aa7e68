// The release tarball installs with no network: build it with
// scripts/make-release.sh, install it with an empty npm cache and a registry
// that refuses every connection, then run the installed program, including
// `setup`, which needs the units, rule and config shipped inside it.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const REPO = join(import.meta.dirname, '..')

t.test('npm pack release: offline install, then xs-rsync --help and setup from it', async (t) => {
  const dir = t.testdir({ cache: {} })
  const made = spawnSync('bash', [join(REPO, 'scripts', 'make-release.sh'), '--no-build', join(dir, 'out')],
    { cwd: REPO, encoding: 'utf8', timeout: 240_000 })
  t.equal(made.status, 0, made.stderr)
  const tarball = made.stdout.trim().split('\n').at(-1) ?? ''
  t.match(tarball, /xs-rsync-\d+\.\d+\.\d+\.tgz$/)

  const listing = spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8', maxBuffer: 1 << 26 }).stdout
  for (const f of ['package/node_modules/@xs-rsync/agent/dist/index.js', 'package/node_modules/openpgp/package.json',
    'package/share/systemd/xs-rsyncd.socket', 'package/share/udev/90-xs-rsync.rules', 'package/share/xs-rsync.conf',
    'package/README.md', 'package/LICENSE', 'package/share/man/man1/xs-rsync.1']) {
    t.ok(listing.includes(f + '\n'), f)
  }
  t.notMatch(listing, /node_modules\/(usb|drivelist)\//, 'native optional deps are not in it')

  const prefix = join(dir, 'server')
  const inst = spawnSync('npm', ['install', '--global', '--offline', '--prefix', prefix, '--cache', join(dir, 'cache'),
    '--registry', 'http://127.0.0.1:9', '--no-audit', '--no-fund', tarball], { encoding: 'utf8', timeout: 120_000 })
  t.equal(inst.status, 0, `npm install: ${inst.stderr}`)
  const bin = join(prefix, 'bin', 'xs-rsync')
  const help = spawnSync(bin, ['--help'], { encoding: 'utf8', timeout: 30_000 })
  t.equal(help.status, 0, help.stderr)
  t.match(help.stdout, /^ {2}setup {2,}install on this server/m)
  t.match(help.stdout, /^ {2}ingest /m)

  const root = join(dir, 'root')
  const setup = spawnSync(bin, ['setup', '--prefix', root], { encoding: 'utf8', timeout: 60_000 })
  t.equal(setup.status, 0, setup.stderr)
  const unit = readFileSync(join(root, 'etc/systemd/system/xs-rsync-ingest@.service'), 'utf8')
  t.match(unit, new RegExp(`^ExecStart=${prefix}/lib/node_modules/xs-rsync/bin/xs-rsync\\.js ingest /dev/%I$`, 'm'),
    'units run the installed program')
  t.ok(existsSync(join(root, 'usr/share/doc/xs-rsync/admin-guide.md')), 'the guide the units link to')

  const pkgDir = join(prefix, 'lib', 'node_modules', 'xs-rsync')
  t.equal(readFileSync(join(pkgDir, 'README.md'), 'utf8'), readFileSync(join(REPO, 'README.md'), 'utf8'), 'the README')
  t.match(readFileSync(join(pkgDir, 'LICENSE'), 'utf8'), /GNU GENERAL PUBLIC LICENSE\s+Version 2, June 1991/, 'the GPL-2.0 text')
  const man = readFileSync(join(prefix, 'share', 'man', 'man1', 'xs-rsync.1'), 'utf8')
  t.match(man, /^\.TH XS\\-RSYNC 1 /m, 'man page linked into PREFIX/share/man/man1')
  t.match(man, /^\.SH EXIT STATUS$/m)
  const rendered = spawnSync('man', ['-l', '-Tutf8', join(prefix, 'share', 'man', 'man1', 'xs-rsync.1')], { encoding: 'utf8', timeout: 30_000 })
  t.equal(rendered.status, 0, `man -l: ${rendered.stderr}`)
  t.match(rendered.stdout, /xs-rsync prepare-stick/, 'man renders it')
})
