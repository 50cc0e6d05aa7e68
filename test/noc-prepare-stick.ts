// The NOC prepares a stick with `xs-rsync prepare-stick` (signed with a gpg-made
// key); a school server checks it with `xs-rsync ingest --check`, then ingests
// it for real into a temp store. A stick altered after preparing is refused.
import t from 'tap'
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { listBuilds } from '@xs-rsync/publisher'
import { ERROR_TABLE } from '@xs-rsync/core'
import { sampleBuild, testConfig } from '../packages/agent/test/lib/ingest-fixture.js'
import { makeSecretKey, type SecretTestKey } from '../packages/agent/test/lib/gpg-secret.js'
import { attachLoop, fatImageOf, isMounted } from './lib/stick-image.js'
import { XS_BIN, xsRsync } from './lib/xs-cli.js'

const xs = (args: string[]) =>
  spawnSync(process.execPath, [XS_BIN, ...args, '--no-syslog'], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, XS_RSYNC_PASSPHRASE: '' } })

let key: SecretTestKey
t.before(() => { key = makeSecretKey({ algo: 'rsa2048', passphrase: 'noc passphrase', uid: 'School NOC <noc@example.invalid>' }) })
t.teardown(() => { key.dispose() })

t.test('prepare-stick -> ingest --check -> ingest: the builds are served', async (t) => {
  const dir = t.testdir({ 'noc.secret.asc': key.secretArmored, 'noc.asc': key.publicArmored, pw: 'noc passphrase\n' })
  const b44 = await sampleBuild(dir, '44')
  const b45 = await sampleBuild(dir, '45', 'other')
  const stick = join(dir, 'stick')
  mkdirSync(stick)
  const prep = xs(['prepare-stick', '--out', stick, '--sign-key', join(dir, 'noc.secret.asc'), '--passphrase-file', join(dir, 'pw'),
    b44.tarball, b45.tarball])
  t.equal(prep.status, 0, prep.stderr)
  t.match(prep.stderr, /\[1\/6\] Checking 2 builds[\s\S]*copy .* MB \(100%\)[\s\S]*\[6\/6\] Reading the stick back/)
  t.match(prep.stderr, new RegExp(`DONE: .*xs-xobuilds holds builds 44, 45, signed by ${key.fingerprint}, read back and verified`))
  for (const m of ['manifest.sha256', 'manifest.sha1']) {
    const sd = join(stick, 'xs-xobuilds')
    t.ok(key.gpgVerify(readFileSync(join(sd, m)), readFileSync(join(sd, `${m}.sig`))).ok, `gpg --verify ${m}.sig`)
  }

  // the school server: trust the NOC key, check the stick, then ingest it
  const config = testConfig(dir, join(dir, 'keys'))
  t.equal(xs(['keys', 'add', '--keyring', config.keyring, join(dir, 'noc.asc')]).status, 0)
  const check = xsRsync(config, ['ingest', '--check', '--keyring', config.keyring, stick])
  t.equal(check.status, 0, check.stderr)
  t.match(check.stderr, /Security is enforcing/)
  t.match(check.stderr, new RegExp(`Signature .*manifest\\.sha256\\.sig is valid: signed .* by NOC key ${key.fingerprint}`))
  t.match(check.stderr, new RegExp(`CHECKED: .* is valid \\(signed by NOC key ${key.fingerprint} \\(School NOC <noc@example\\.invalid>\\)\\); would publish 44, 45; nothing was changed`))
  t.notOk(existsSync(config.root), '--check changed nothing')

  const run = xsRsync(config, ['ingest', '--keyring', config.keyring, stick])
  t.equal(run.status, 0, run.stderr)
  t.match(run.stderr, /DONE: builds now available to laptops: 44, 45/)
  const served = await listBuilds(config)
  t.same(served.map((b) => b.name), ['44', '45'])
  t.match(served[0], { name: '44', extra: { ingest: { signedBy: key.fingerprint, manifest: 'sha256' } } })
  t.match(readFileSync(config.rsyncdConf, 'utf8'), /\[build-44\][\s\S]*\[build-45\]/)

  // altered after it was prepared: another server (without these builds) refuses it
  appendFileSync(join(stick, 'xs-xobuilds', 'os45.contents'), 'extra line\n')
  const other = testConfig(join(dir, 'server2'), config.keyring)
  const bad = xsRsync(other, ['ingest', '--check', '--keyring', config.keyring, stick])
  t.equal(bad.status, ERROR_TABLE.E_MANIFEST_MISMATCH.exit, bad.stderr)
  t.match(bad.stderr, /FAILED: stick contents do not match the manifest: .*os45\.contents/)
})

t.test('written to a real FAT stick (mtools image on a loop device), it checks out by device', async (t) => {
  const dir = t.testdir({ 'noc.secret.asc': key.secretArmored, 'noc.asc': key.publicArmored, pw: 'noc passphrase\n' })
  const b = await sampleBuild(dir, '48')
  const folder = join(dir, 'prepared')
  mkdirSync(folder)
  const prep = xs(['prepare-stick', '--out', folder, '--sign-key', join(dir, 'noc.secret.asc'), '--passphrase-file', join(dir, 'pw'), b.tarball])
  t.equal(prep.status, 0, prep.stderr)
  const dev = attachLoop(t, fatImageOf(join(dir, 'stick.img'), folder, { label: 'NOC48' }))
  const config = testConfig(dir, join(dir, 'keys'))
  t.equal(xs(['keys', 'add', '--keyring', config.keyring, join(dir, 'noc.asc')]).status, 0)
  const check = xsRsync(config, ['ingest', '--check', '--keyring', config.keyring, dev])
  t.equal(check.status, 0, check.stderr)
  t.match(check.stderr, /CHECKED: .* is valid \(signed by NOC key [0-9A-F]{40} \(.*\)\); would publish 48; nothing was changed/)
  t.notOk(isMounted(dev), 'unmounted afterwards')
})

t.test('an unsigned stick: refused by an enforcing server, accepted with a warning by a permissive one', async (t) => {
  const dir = t.testdir({ 'noc.asc': key.publicArmored })
  const b = await sampleBuild(dir, '46')
  const stick = join(dir, 'stick')
  mkdirSync(stick)
  const prep = xs(['prepare-stick', '--out', stick, b.tarball])
  t.equal(prep.status, 0, prep.stderr)
  t.match(prep.stderr, /warning: No signing key given: the manifests are NOT signed/)
  const config = testConfig(dir, join(dir, 'keys'))
  t.equal(xs(['keys', 'add', '--keyring', config.keyring, join(dir, 'noc.asc')]).status, 0)
  const enforcing = xsRsync(config, ['ingest', '--check', '--keyring', config.keyring, stick])
  t.equal(enforcing.status, ERROR_TABLE.E_SIGNATURE_MISSING.exit, enforcing.stderr)
  const typo = xsRsync(config, ['ingest', '--check', '--keyring', join(dir, 'no-keys'), stick])
  t.equal(typo.status, ERROR_TABLE.E_KEYRING.exit, 'a keyring path that does not exist never makes the server permissive')
  t.match(typo.stderr, /FAILED: trusted key problem: the keyring folder .*no-keys .*does not exist/)
  const permissive = xsRsync(config, ['ingest', '--check', '--security', 'permissive', '--keyring', join(dir, 'no-keys'), stick])
  t.equal(permissive.status, 0, permissive.stderr)
  t.match(permissive.stderr, /warning: .*manifest\.sha256 is NOT signed; accepted only because security is permissive/)
})

t.test('prepare-stick usage: names for builds without .name, one per BUILD', async (t) => {
  const dir = t.testdir({})
  const b = await sampleBuild(dir, '47')
  const cases: [string[], keyof typeof ERROR_TABLE, RegExp][] = [
    [['prepare-stick', b.tarball], 'E_USAGE', /usage: xs-rsync prepare-stick --out DIR/],
    [['prepare-stick', '--out', join(dir, 's1'), '--name', '47,48', b.tarball], 'E_USAGE', /--name gives 2 names for 1 builds/],
    [['prepare-stick', '--out', join(dir, 's2'), '--name', '48', b.tarball], 'E_USAGE', /says the build is "47" but the name given is "48"/],
    [['prepare-stick', '--out', join(dir, 's3'), '--sign-key', join(dir, 'missing.asc'), b.tarball], 'E_NOT_FOUND', /the key file .*missing\.asc does not exist/],
    [['prepare-stick', '--out', join(dir, 'not-mounted'), b.tarball], 'E_NOT_FOUND', /not-mounted does not exist: mount the stick there first/],
  ]
  for (const [args, code, re] of cases) {
    const r = xs(args)
    t.equal(r.status, ERROR_TABLE[code].exit, `${args.join(' ')}: ${r.stderr}`)
    t.match(r.stderr, re)
  }
  t.notOk(existsSync(join(dir, 's2', 'xs-xobuilds')))
  t.notOk(existsSync(join(dir, 'not-mounted')), 'a missing --out folder is not created')
})

t.test('a FAT32 stick mounted through fusefat (which reports size 0) is written, and a server reads it by device', async (t) => {
  const dir = t.testdir({ 'noc.secret.asc': key.secretArmored, 'noc.asc': key.publicArmored, pw: 'noc passphrase\n' })
  const b = await sampleBuild(dir, '49')
  const img = join(dir, 'stick.img')
  spawnSync('truncate', ['-s', '64M', img])
  t.equal(spawnSync('mkfs.vfat', ['-F', '32', '-n', 'NOC49', img]).status, 0, 'mkfs.vfat -F 32')
  const mnt = join(dir, 'mnt')
  mkdirSync(mnt)
  const m = spawnSync('fusefat', ['-o', 'rw+', img, mnt], { encoding: 'utf8', timeout: 30_000 })
  t.equal(m.status, 0, `fusefat -o rw+: ${m.stderr}`)
  let mounted = true
  const unmount = (): void => {
    if (mounted) spawnSync('fusermount', ['-u', mnt])
    mounted = false
  }
  t.teardown(unmount)
  t.equal(spawnSync('stat', ['-f', '-c', '%b', mnt], { encoding: 'utf8' }).stdout.trim(), '0', 'fusefat reports 0 blocks (the case this test is about)')
  const prep = xs(['prepare-stick', '--out', mnt, '--sign-key', join(dir, 'noc.secret.asc'), '--passphrase-file', join(dir, 'pw'), b.tarball])
  t.equal(prep.status, 0, prep.stderr)
  t.match(prep.stderr, /warning: .*mnt does not report its size .*free space not checked/)
  t.match(prep.stderr, /DONE: .*xs-xobuilds holds build 49, signed by .*, read back and verified/)
  unmount()
  // what is on the image, read by the server the way it reads a stick
  const dev = attachLoop(t, img)
  const config = testConfig(dir, join(dir, 'keys'))
  t.equal(xs(['keys', 'add', '--keyring', config.keyring, join(dir, 'noc.asc')]).status, 0)
  const check = xsRsync(config, ['ingest', '--check', '--keyring', config.keyring, dev])
  t.equal(check.status, 0, check.stderr)
  t.match(check.stderr, /CHECKED: .* is valid \(signed by NOC key [0-9A-F]{40} \(School NOC <noc@example\.invalid>\)\); would publish 49; nothing was changed/)
})

t.test('ingest --check at the NOC (no store): no space check; with a store, ENOSPC names the reserve setting', async (t) => {
  const dir = t.testdir({ stick: {}, small: {} })
  const b = await sampleBuild(dir, '50')
  const stick = join(dir, 'stick')
  t.equal(xs(['prepare-stick', '--out', stick, b.tarball]).status, 0)
  const small = join(dir, 'small')
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'xs-test', small])
  if (m.status !== 0) {
    t.fail(`cannot mount a small tmpfs at ${small}: ${m.stderr.toString().trim()}`)
    return
  }
  try {
    const config = testConfig(dir, join(dir, 'keys'))
    // a 1 MB disk and no store on it: the default reserve alone (512 MB) would fail the space check
    const noc = xsRsync({ ...config, root: join(small, 'no-store') }, ['ingest', '--check', '--security', 'permissive', '--keyring', config.keyring, stick])
    t.equal(noc.status, 0, noc.stderr)
    t.match(noc.stderr, /No store at .*no-store on this machine: checking the stick only/)
    t.match(noc.stderr, /CHECKED: .* is valid \(unsigned\); would publish 50; nothing was changed/)
    t.notOk(existsSync(join(small, 'no-store')), 'no store created')
    const server = xsRsync({ ...config, root: small }, ['ingest', '--check', '--security', 'permissive', '--keyring', config.keyring, stick])
    t.equal(server.status, ERROR_TABLE.E_NO_SPACE.exit, server.stderr)
    t.match(server.stderr, /FAILED: not enough free space: the store .* needs \d+ MB \(.*reserve 512 MB, the "reserve" setting\)/)
    const lower = xsRsync({ ...config, root: small }, ['ingest', '--check', '--reserve', '0', '--security', 'permissive', '--keyring', config.keyring, stick])
    t.equal(lower.status, 0, `--reserve 0 lets it pass: ${lower.stderr}`)
  } finally {
    spawnSync('umount', [small])
  }
})
