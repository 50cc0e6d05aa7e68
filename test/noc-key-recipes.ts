// The NOC guide's key recipes (docs/noc-guide.md section 6: rotate, extend,
// revoke), followed literally with the real CLI and the real gpg (each gpg
// command of the guide, run with --batch and its own --homedir), for a key
// made by `xs-rsync keys generate` and one made by gpg. After each step a
// school server ingests (or refuses) a stick signed by the keys involved.
import t, { type Test } from 'tap'
import { spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ERROR_TABLE, type ErrorCode } from '@xs-rsync/core'
import { daysAgo, sampleBuild, testConfig } from '../packages/agent/test/lib/ingest-fixture.js'
import { XS_BIN, xsRsync } from './lib/xs-cli.js'

const xs = (args: string[]): SpawnSyncReturns<string> =>
  spawnSync(process.execPath, [XS_BIN, ...args, '--no-syslog'], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, XS_RSYNC_PASSPHRASE: '' } })

/** A GnuPG home for the NOC (short path: gpg-agent's socket), removed at the end. */
const gpgHome = (t: Test): { home: string, gpg: (args: string[], at?: Date) => SpawnSyncReturns<string> } => {
  const home = mkdtempSync(join(tmpdir(), 'xsr-'))
  t.teardown(() => {
    spawnSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'])
    rmSync(home, { recursive: true, force: true })
  })
  const gpg = (args: string[], at?: Date): SpawnSyncReturns<string> => spawnSync('gpg', [
    '--batch', '--homedir', home, '--pinentry-mode', 'loopback', '--passphrase', '',
    ...(at === undefined ? [] : ['--faked-system-time', `${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '')}!`]),
    ...args,
  ], { encoding: 'utf8', timeout: 60_000 })
  return { home, gpg }
}

/** `xs-rsync keys generate` into DIR: the fingerprint and the three files. */
const generate = (t: Test, dir: string, uid: string): { fpr: string, pub: string, secret: string, revoke: string } => {
  const r = xs(['keys', 'generate', uid, '--out', dir])
  t.equal(r.status, 0, r.stderr)
  const fpr = /new NOC key ([0-9A-F]{40})/.exec(r.stderr)?.[1] ?? ''
  return { fpr, pub: join(dir, `${fpr}.asc`), secret: join(dir, `${fpr}.secret.asc`), revoke: join(dir, `${fpr}.revoke.asc`) }
}

/** prepare-stick of a new build (numbered from `n`) signed with `secret` (or unsigned), into a new mount-point folder; the folder. */
const stickMaker = (t: Test, dir: string, n: number) => async (secret: string | undefined): Promise<string> => {
  const b = await sampleBuild(dir, String(n), `v${n}`)
  const stick = join(dir, `stick-${n++}`)
  mkdirSync(stick) // the stick's mount point: prepare-stick never creates it
  const p = xs(['prepare-stick', '--out', stick, ...(secret === undefined ? [] : ['--sign-key', secret]), b.tarball])
  t.equal(p.status, 0, p.stderr)
  return stick
}

t.test('recipes with a key made by xs-rsync keys generate: rotate, then revoke (keys revoke, or gpg and keys add)', async (t) => {
  const dir = t.testdir({ noc: {} })
  const config = testConfig(dir, join(dir, 'keys'))
  const keyring = config.keyring
  const stickBy = stickMaker(t, dir, 60)
  const ingestOk = (stick: string): void => {
    const r = xsRsync(config, ['ingest', '--keyring', keyring, stick])
    t.equal(r.status, 0, r.stderr)
  }
  const refused = (stick: string, code: ErrorCode, message: RegExp, ring = keyring): void => {
    const r = xsRsync(config, ['ingest', '--keyring', ring, stick])
    t.equal(r.status, ERROR_TABLE[code].exit, r.stderr)
    t.equal(r.stderr.split('\n').filter((l) => / FAILED: /.test(l)).length, 1, 'one FAILED line')
    t.match(r.stderr, message)
  }

  const old = generate(t, join(dir, 'noc'), 'School NOC 2025 <noc@example.org>')
  t.equal(xs(['keys', 'add', '--keyring', keyring, old.pub]).status, 0)
  ingestOk(await stickBy(old.secret))

  // rotate: 1. make the new key, 2. add it next to the old one, 3. sign with it, 4. remove the old one
  const next = generate(t, join(dir, 'noc'), 'School NOC 2026 <noc@example.org>')
  t.equal(xs(['keys', 'add', '--keyring', keyring, next.pub]).status, 0)
  ingestOk(await stickBy(next.secret))
  ingestOk(await stickBy(old.secret))
  const rm = xs(['keys', 'remove', '--keyring', keyring, old.fpr])
  t.equal(rm.status, 0, rm.stderr)
  refused(await stickBy(old.secret), 'E_SIGNATURE_BAD', /no valid signature by a trusted key/)
  refused(await stickBy(undefined), 'E_SIGNATURE_MISSING', /has no signature/)

  // the new key is stolen: 1. make and add another, 2. keys revoke the certificate
  const third = generate(t, join(dir, 'noc'), 'School NOC 2026b <noc@example.org>')
  t.equal(xs(['keys', 'add', '--keyring', keyring, third.pub]).status, 0)
  const rv = xs(['keys', 'revoke', '--keyring', keyring, next.revoke])
  t.equal(rv.status, 0, rv.stderr)
  t.match(rv.stderr, new RegExp(`warning: Key ${next.fpr} \\(School NOC 2026 <noc@example\\.org>\\) is now REVOKED on this server`))
  refused(await stickBy(next.secret), 'E_SIGNATURE_BAD', new RegExp(`signing key ${next.fpr} .* does not count: revoked`))
  const again = xs(['keys', 'add', '--keyring', keyring, next.pub])
  t.equal(again.status, ERROR_TABLE.E_KEYRING.exit, 'an old copy does not bring a revoked key back')
  t.match(again.stderr, /is revoked in .*does not trust it again/)
  ingestOk(await stickBy(third.secret))
  const list = xs(['keys', 'list', '--keyring', keyring])
  t.equal(list.status, 0, list.stderr)
  t.match(list.stdout, new RegExp(`${next.fpr}[\\s\\S]*REVOKED[\\s\\S]*status:   does not count: revoked`))

  // the other way: publish the revoked key with gpg and add it on a second server
  const { gpg } = gpgHome(t)
  const ring2 = join(dir, 'keys2')
  t.equal(xs(['keys', 'add', '--keyring', ring2, next.pub]).status, 0)
  t.equal(xs(['keys', 'add', '--keyring', ring2, third.pub]).status, 0)
  t.equal(gpg(['--import', next.pub]).status, 0)
  t.equal(gpg(['--import', next.revoke]).status, 0, 'gpg --import FPR.revoke.asc')
  const exp = gpg(['--armor', '--export', next.fpr])
  t.equal(exp.status, 0)
  writeFileSync(join(dir, 'revoked.asc'), exp.stdout)
  const add = xs(['keys', 'add', '--keyring', ring2, join(dir, 'revoked.asc')])
  t.equal(add.status, 0, add.stderr)
  t.match(add.stderr, new RegExp(`warning: Key ${next.fpr} .* is now REVOKED on this server`))
  refused(await stickBy(next.secret), 'E_SIGNATURE_BAD', /does not count: revoked/, ring2)
})

t.test('recipes with a key made by gpg: an expired key stays enforcing, extend it, then revoke it with openpgp-revocs.d/FPR.rev', async (t) => {
  const dir = t.testdir({})
  const config = testConfig(dir, join(dir, 'keys'))
  const keyring = config.keyring
  const { home, gpg } = gpgHome(t)
  // made 400 days ago for 1 year: expired now
  t.equal(gpg(['--quick-gen-key', 'School NOC <noc@example.org>', 'ed25519', 'sign', '1y'], daysAgo(400)).status, 0)
  const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(gpg(['--list-keys', '--with-colons', 'noc@example.org']).stdout)?.[1] ?? ''
  t.match(fpr, /^[0-9A-F]{40}$/)
  writeFileSync(join(dir, 'noc.asc'), gpg(['--armor', '--export', fpr]).stdout)
  // the server trusted it while it was valid (keys add refuses an expired key today)
  mkdirSync(keyring, { recursive: true })
  writeFileSync(join(keyring, `${fpr}.asc`), readFileSync(join(dir, 'noc.asc')))
  const stickBy = stickMaker(t, dir, 80)
  const unsigned = await stickBy(undefined)
  const r1 = xsRsync(config, ['ingest', '--keyring', keyring, unsigned])
  t.equal(r1.status, ERROR_TABLE.E_KEYRING.exit, 'the key expired: not permissive, every stick refused')
  t.match(r1.stderr, new RegExp(`FAILED: .*no key in .* counts: ${fpr} \\(School NOC <noc@example\\.org>\\) in .*: expired on .*gpg --quick-set-expire FPR 2y`))

  // extend: gpg --quick-set-expire FPR 2y; gpg --armor --export FPR > noc.asc; xs-rsync keys add noc.asc
  t.equal(gpg(['--quick-set-expire', fpr, '2y']).status, 0)
  writeFileSync(join(dir, 'noc.asc'), gpg(['--armor', '--export', fpr]).stdout)
  const add = xs(['keys', 'add', '--keyring', keyring, join(dir, 'noc.asc')])
  t.equal(add.status, 0, add.stderr)
  t.match(add.stderr, new RegExp(`Updated trusted NOC key ${fpr} \\(School NOC <noc@example\\.org>, Ed25519, expires 20`))
  writeFileSync(join(dir, 'noc.secret.asc'), gpg(['--armor', '--export-secret-keys', fpr]).stdout)
  const signed = await stickBy(join(dir, 'noc.secret.asc'))
  const r2 = xsRsync(config, ['ingest', '--keyring', keyring, signed])
  t.equal(r2.status, 0, r2.stderr)
  t.match(r2.stderr, new RegExp(`the stick was signed by NOC key ${fpr} \\(School NOC <noc@example\\.org>\\)`))
  const r3 = xsRsync(config, ['ingest', '--keyring', keyring, unsigned])
  t.equal(r3.status, ERROR_TABLE.E_SIGNATURE_MISSING.exit, r3.stderr)

  // revoke with GnuPG's own certificate, as it is (":-----BEGIN")
  const rev = join(home, 'openpgp-revocs.d', `${fpr}.rev`)
  t.match(readFileSync(rev, 'utf8'), /^:-----BEGIN PGP PUBLIC KEY BLOCK-----/m)
  const rv = xs(['keys', 'revoke', '--keyring', keyring, rev])
  t.equal(rv.status, 0, rv.stderr)
  t.match(rv.stderr, /is now REVOKED on this server/)
  t.match(rv.stderr, /warning: No usable NOC key is left in .*: this server now refuses every stick until a new NOC key is added/)
  const r4 = xsRsync(config, ['ingest', '--keyring', keyring, await stickBy(join(dir, 'noc.secret.asc'))])
  t.equal(r4.status, ERROR_TABLE.E_KEYRING.exit, 'revoked and alone: every stick refused, never permissive')
  t.match(r4.stderr, new RegExp(`${fpr} .*: revoked`))
  const r5 = xsRsync(config, ['ingest', '--keyring', keyring, unsigned])
  t.equal(r5.status, ERROR_TABLE.E_KEYRING.exit)
  t.same(readdirSync(keyring), [`${fpr}.asc`], 'the revoked key stays, marked revoked')
})
