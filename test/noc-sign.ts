// NOC signing both ways with the real gpg: `xs-rsync sign` output verified by
// `gpg --verify`, gpg --detach-sign output verified by the agent; and the
// keys command on a server keyring.
import t from 'tap'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { readKey } from 'openpgp'
import { verifyDetachedSignature } from '@xs-rsync/agent'
import { ERROR_TABLE } from '@xs-rsync/core'
import { makeSecretKey, type SecretTestKey } from '../packages/agent/test/lib/gpg-secret.js'
import { XS_BIN } from './lib/xs-cli.js'

const xs = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [XS_BIN, ...args, '--no-syslog'], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, XS_RSYNC_PASSPHRASE: '', ...env } })

const MANIFEST = `${'a'.repeat(64)}  os44-tree.tar.bz2\n${'b'.repeat(64)}  os44.name\n`

let rsa: SecretTestKey
let ed: SecretTestKey
t.before(() => {
  rsa = makeSecretKey({ algo: 'rsa2048', passphrase: 'rsa secret', uid: 'NOC RSA <rsa@example.invalid>' })
  ed = makeSecretKey({ algo: 'ed25519', uid: 'NOC Ed <ed@example.invalid>' })
})
t.teardown(() => { rsa.dispose(); ed.dispose() })

t.test('xs-rsync sign: gpg --verify accepts the signature (passphrase from a file or the environment)', async (t) => {
  const dir = t.testdir({ 'manifest.sha256': MANIFEST, 'sec.asc': rsa.secretArmored, pw: 'rsa secret\n', 'ed.gpg': ed.secretBinary })
  const m = join(dir, 'manifest.sha256')
  const r1 = xs(['sign', m, '--key', join(dir, 'sec.asc'), '--passphrase-file', join(dir, 'pw')])
  t.equal(r1.status, 0, r1.stderr)
  t.match(r1.stderr, new RegExp(`DONE: .*manifest\\.sha256\\.sig is the signature of .* by ${rsa.fingerprint}`))
  t.ok(rsa.gpgVerify(Buffer.from(MANIFEST), readFileSync(`${m}.sig`)).ok, 'gpg --verify (RSA, from --passphrase-file)')
  t.notOk(rsa.gpgVerify(Buffer.from(MANIFEST.replace('a', 'c')), readFileSync(`${m}.sig`)).ok, 'gpg refuses it for a changed manifest')

  const r2 = xs(['sign', m, '--key', join(dir, 'sec.asc'), '--out', join(dir, 'env.sig')], { XS_RSYNC_PASSPHRASE: 'rsa secret' })
  t.equal(r2.status, 0, r2.stderr)
  t.ok(rsa.gpgVerify(Buffer.from(MANIFEST), readFileSync(join(dir, 'env.sig'))).ok, 'gpg --verify (passphrase from XS_RSYNC_PASSPHRASE)')

  const r3 = xs(['sign', m, '--key', join(dir, 'ed.gpg'), '--out', join(dir, 'ed.sig')])
  t.equal(r3.status, 0, r3.stderr)
  t.ok(ed.gpgVerify(Buffer.from(MANIFEST), readFileSync(join(dir, 'ed.sig'))).ok, 'gpg --verify (Ed25519, binary key file)')
})

t.test('xs-rsync sign refuses: no passphrase, wrong key, junk manifest, passphrase on the command line', async (t) => {
  const dir = t.testdir({ 'manifest.sha256': MANIFEST, 'manifest.sha1': 'not a manifest\n', 'sec.asc': rsa.secretArmored, 'pub.asc': rsa.publicArmored })
  const m = join(dir, 'manifest.sha256')
  const cases: [string[], keyof typeof ERROR_TABLE, RegExp][] = [
    [['sign', m, '--key', join(dir, 'sec.asc')], 'E_KEYRING', /protected by a passphrase and none was given/],
    [['sign', m, '--key', join(dir, 'pub.asc')], 'E_KEYRING', /not an OpenPGP secret key/],
    [['sign', join(dir, 'manifest.sha1'), '--key', join(dir, 'sec.asc')], 'E_MANIFEST', /manifest\.sha1 line 1: not a sha1sum line/],
    [['sign', m, '--key', join(dir, 'sec.asc'), '--passphrase', 'rsa secret'], 'E_USAGE', /unknown option "--passphrase" for "xs-rsync sign" \(did you mean "--passphrase-file"\?\)/],
    [['sign', m], 'E_USAGE', /usage: xs-rsync sign/],
  ]
  for (const [args, code, re] of cases) {
    const r = xs(args)
    t.equal(r.status, ERROR_TABLE[code].exit, `${args.join(' ')}: ${r.stderr}`)
    t.match(r.stderr, re)
  }
  t.same(readdirSync(dir).filter((n) => n.endsWith('.sig') || n.includes('.tmp-')), [], 'no signature or temp file written')
})

t.test('gpg --detach-sign (armored and binary) is verified by the agent; a changed manifest is not', async (t) => {
  for (const k of [rsa, ed]) {
    const pub = await readKey({ armoredKey: k.publicArmored })
    for (const armor of [true, false]) {
      const signature = k.gpgSign(Buffer.from(MANIFEST), armor)
      const res = await verifyDetachedSignature({ data: Buffer.from(MANIFEST), signature, keys: [pub] })
      t.equal(res.fingerprint, k.fingerprint, `${k.fingerprint.slice(-8)} ${armor ? 'armored' : 'binary'}`)
      await t.rejects(verifyDetachedSignature({ data: Buffer.from(MANIFEST + '\n'), signature, keys: [pub] }), { code: 'E_SIGNATURE_BAD' })
    }
  }
})

t.test('keys generate / add / list / remove through the CLI, and a generated key signs what gpg verifies', async (t) => {
  const dir = t.testdir({ 'manifest.sha256': MANIFEST, pw: 'gen pass\n', 'sec.asc': ed.secretArmored })
  const ring = join(dir, 'keys')
  const gen = xs(['keys', 'generate', 'School NOC <noc@example.invalid>', '--out', join(dir, 'noc'), '--expires', '2y', '--passphrase-file', join(dir, 'pw')])
  t.equal(gen.status, 0, gen.stderr)
  const fpr = /new NOC key ([0-9A-F]{40})/.exec(gen.stderr)?.[1] ?? ''
  t.same(readdirSync(join(dir, 'noc')).sort(), [`${fpr}.asc`, `${fpr}.revoke.asc`, `${fpr}.secret.asc`])
  t.equal(spawnSync('stat', ['-c', '%a', join(dir, 'noc', `${fpr}.secret.asc`)], { encoding: 'utf8' }).stdout.trim(), '600')

  const sign = xs(['sign', join(dir, 'manifest.sha256'), '--key', join(dir, 'noc', `${fpr}.secret.asc`), '--passphrase-file', join(dir, 'pw')])
  t.equal(sign.status, 0, sign.stderr)
  const home = ed.home
  spawnSync('gpg', ['--batch', '--homedir', home, '--import', join(dir, 'noc', `${fpr}.asc`)])
  const v = spawnSync('gpg', ['--batch', '--homedir', home, '--status-fd', '1', '--verify', join(dir, 'manifest.sha256.sig'), join(dir, 'manifest.sha256')], { encoding: 'utf8' })
  t.match(v.stdout, new RegExp(`VALIDSIG ${fpr}`), 'gpg verifies the signature of the xs-rsync-made key')

  const add = xs(['keys', 'add', '--keyring', ring, join(dir, 'noc', `${fpr}.asc`)])
  t.equal(add.status, 0, add.stderr)
  t.match(add.stderr, new RegExp(`Added trusted NOC key ${fpr} \\(School NOC <noc@example.invalid>, Ed25519, expires 20`))
  const refused = xs(['keys', 'add', '--keyring', ring, join(dir, 'sec.asc')])
  t.equal(refused.status, ERROR_TABLE.E_KEYRING.exit)
  t.match(refused.stderr, /FAILED: trusted key problem: .*holds the SECRET key/)

  const list = xs(['keys', 'list', '--keyring', ring, '--json'])
  t.equal(list.status, 0, list.stderr)
  const l = JSON.parse(list.stdout) as { keys: { fingerprint: string, usable: boolean, algorithm: string, expires: string | null }[] }
  t.match(l.keys, [{ fingerprint: fpr, usable: true, algorithm: 'Ed25519', expires: /^20/ }])
  const table = xs(['keys', 'list', '--keyring', ring])
  t.match(table.stdout, new RegExp(`${fpr}  Ed25519\\n  user id:  School NOC <noc@example.invalid>\\n  created: .*expires: 20.*\\n  status:   trusted`))

  const last = xs(['keys', 'remove', '--keyring', ring, fpr.slice(-16)])
  t.equal(last.status, ERROR_TABLE.E_USAGE.exit, 'the last usable key needs --force')
  t.match(last.stderr, /FAILED: .*last usable NOC key .*refuses every stick until a new NOC key is added/)
  const rm = xs(['keys', 'remove', '--force', '--keyring', ring, fpr.slice(-16)])
  t.equal(rm.status, 0, rm.stderr)
  t.match(rm.stderr, /warning: Removing the last usable NOC key/)
  t.same(readdirSync(ring), [])
  const gone = xs(['keys', 'remove', '--keyring', ring, fpr])
  t.equal(gone.status, ERROR_TABLE.E_NOT_FOUND.exit)
  t.match(gone.stderr, /FAILED: .*no key .* Check the fingerprint: "xs-rsync keys list" shows the trusted keys\./, 'advice about keys, not about sticks')
  t.notMatch(gone.stderr, /plug the stick in/)
  t.notOk(existsSync(join(dir, 'keys', `${fpr}.asc`)))
  writeFileSync(join(ring, 'broken.asc'), 'junk')
  writeFileSync(join(ring, 'README'), 'stray notes')
  const warn = xs(['keys', 'list', '--keyring', ring])
  t.equal(warn.status, ERROR_TABLE.E_KEYRING.exit, 'a key file with a problem: keys list fails')
  t.match(warn.stdout, /PROBLEM .*broken\.asc/)
  t.match(warn.stdout, /ignored .*README: not a key file/)
  t.match(warn.stderr, /FAILED: trusted key problem: 1 key file in .* has a problem \(ingest refuses every stick until fixed\): .*broken\.asc/)
  t.match(warn.stderr, /warning: Ignoring .*README in the keyring folder/)
})
