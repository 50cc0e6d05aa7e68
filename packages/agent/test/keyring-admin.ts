import t from 'tap'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { addKeys, algorithmName, keyFileName, listKeyring, normalizeKeyId, removeKey, revocationArmor, revokeKey } from '../src/keyring-admin.js'
import { generateNocKey } from '../src/generate-noc-key.js'
import { loadKeyring } from '../src/keyring.js'
import { makeKey, type TestKey } from './lib/gpg.js'
import { makeSecretKey, type SecretTestKey } from './lib/gpg-secret.js'

const keys: Record<string, TestKey> = {}
const secret: Record<string, SecretTestKey> = {}
t.before(() => {
  keys.rsa = makeKey({ algo: 'rsa2048', expire: '1y' })
  keys.ed = makeKey({ algo: 'ed25519', uid: 'NOC Ed <ed@example.invalid>' })
  keys.expired = makeKey({ algo: 'ed25519', expire: '1d', at: new Date('2020-01-01T00:00:00Z'), uid: 'Old <old@example.invalid>' })
  keys.revoked = makeKey({ algo: 'ed25519', uid: 'Revoked <revoked@example.invalid>' })
  keys.revoked.revoke()
  secret.noc = makeSecretKey({ algo: 'ed25519' })
  secret.cert = makeSecretKey({ usage: 'cert', uid: 'Cert only <cert@example.invalid>' })
})
t.teardown(() => { for (const k of [...Object.values(keys), ...Object.values(secret)]) k.dispose() })
const k = (n: string): TestKey => keys[n] as TestKey
const s = (n: string): SecretTestKey => secret[n] as SecretTestKey

t.test('algorithm names and key ids (table)', async (t) => {
  const algos: [Parameters<typeof algorithmName>[0], string][] = [
    [{ algorithm: 'rsaEncryptSign', bits: 3072 }, 'RSA 3072'],
    [{ algorithm: 'rsaSign', bits: 2048 }, 'RSA 2048'],
    [{ algorithm: 'eddsaLegacy', curve: 'ed25519Legacy' }, 'Ed25519'],
    [{ algorithm: 'ed25519' }, 'Ed25519'],
    [{ algorithm: 'ecdsa', curve: 'nistP256' }, 'ECDSA nistP256'],
  ]
  for (const [info, want] of algos) t.equal(algorithmName(info), want)
  const ids: [string, string | null][] = [
    ['0xABCDEF0123456789', 'ABCDEF0123456789'],
    ['7C17 0D25 5B1C 6C18 BA48  A256 2294 39E0 E507 14fa', '7C170D255B1C6C18BA48A256229439E0E50714FA'],
    ['E50714FA', null],
    ['not hex at all!!', null],
    ['', null],
  ]
  for (const [id, want] of ids) {
    if (want === null) t.throws(() => normalizeKeyId(id), { code: 'E_USAGE' }, id)
    else t.equal(normalizeKeyId(id), want, id)
  }
  t.equal(keyFileName('abc'), 'ABC.asc')
})

t.test('add armored, binary and many-key files: one file per fingerprint, the agent trusts them', async (t) => {
  const dir = t.testdir({ in: {} })
  const ring = join(dir, 'keys')
  writeFileSync(join(dir, 'in', 'rsa.asc'), k('rsa').armored)
  writeFileSync(join(dir, 'in', 'two.gpg'), Buffer.concat([k('ed').binary, s('noc').publicBinary]))
  const logs: string[] = []
  const log = (l: string, m: string): void => { logs.push(`${l}: ${m}`) }
  const a = await addKeys(ring, join(dir, 'in', 'rsa.asc'), { log })
  t.equal(a[0]?.fingerprint, k('rsa').fingerprint)
  t.equal(a[0]?.algorithm, 'RSA 2048')
  t.ok(a[0]?.expires !== null && Date.parse(a[0]?.expires ?? '') > Date.now(), 'expiry shown')
  await addKeys(ring, join(dir, 'in', 'two.gpg'), { log })
  t.same(readdirSync(ring).sort(), [k('rsa').fingerprint, k('ed').fingerprint, s('noc').fingerprint].map(keyFileName).sort())
  t.match(logs.join('\n'), new RegExp(`notice: Added trusted NOC key ${k('ed').fingerprint} \\(NOC Ed <ed@example.invalid>, Ed25519, expires `))
  // again: replaced, not duplicated
  await addKeys(ring, join(dir, 'in', 'rsa.asc'), { log })
  t.match(logs.at(-1), /Updated trusted NOC key/)
  t.equal(readdirSync(ring).length, 3)
  const loaded = await loadKeyring(ring)
  t.same(loaded.keys.map((x) => x.getFingerprint().toUpperCase()).sort(), [k('rsa').fingerprint, k('ed').fingerprint, s('noc').fingerprint].sort())
  const l = await listKeyring(ring)
  const ed = l.keys.find((x) => x.fingerprint === k('ed').fingerprint)
  t.match(ed, { userIDs: ['NOC Ed <ed@example.invalid>'], algorithm: 'Ed25519', revoked: false, secret: false, usable: true })
})

t.test('add refuses secret keys and unusable keys with the reason, writing nothing', async (t) => {
  const dir = t.testdir({ in: {} })
  const ring = join(dir, 'keys')
  const files: [string, string | Buffer, RegExp][] = [
    ['secret.asc', s('noc').secretArmored, /holds the SECRET key .*gpg --armor --export/],
    ['secret.gpg', s('noc').secretBinary, /holds the SECRET key/],
    ['expired.asc', k('expired').armored, /cannot verify sticks: expired on 2020-01-02/],
    ['revoked.gpg', k('revoked').binary, /cannot verify sticks: revoked/],
    ['cert-only.asc', s('cert').publicArmored, /cannot verify sticks: no valid signing key/],
    ['mixed.asc', k('rsa').armored + k('revoked').armored, /revoked/],
    ['junk.asc', 'hello\n', /not a readable OpenPGP key file/],
  ]
  for (const [name, data, message] of files) {
    writeFileSync(join(dir, 'in', name), data)
    await t.rejects(addKeys(ring, join(dir, 'in', name)), { name: 'XsError', code: 'E_KEYRING', message }, name)
    t.notOk(existsSync(ring) && readdirSync(ring).length > 0, `${name}: nothing added`)
  }
})

t.test('list shows every key with its state, and files that hold none', async (t) => {
  const dir = t.testdir({})
  writeFileSync(join(dir, 'hand-placed.asc'), k('expired').armored + k('revoked').armored)
  writeFileSync(join(dir, 'broken.asc'), 'not a key')
  writeFileSync(join(dir, 'backup.asc~'), 'ignored like the agent does')
  const l = await listKeyring(dir)
  t.same(l.keys.map((x) => [x.fingerprint, x.usable, x.revoked]).sort(),
    [[k('expired').fingerprint, false, false], [k('revoked').fingerprint, false, true]].sort())
  t.match(l.keys.find((x) => x.revoked === false)?.reason, /^expired on 2020-01-02/)
  t.match(l.problems, [{ file: join(dir, 'broken.asc'), reason: /not a readable OpenPGP key file/ }])
  t.match(l.ignored, [{ file: join(dir, 'backup.asc~'), reason: /not a key file/ }])
  t.same(await listKeyring(join(dir, 'missing')), { dir: join(dir, 'missing'), exists: false, keys: [], problems: [], ignored: [] })
})

t.test('remove by fingerprint or long key id; a many-key file keeps the others', async (t) => {
  const dir = t.testdir({})
  writeFileSync(join(dir, 'bundle.asc'), k('rsa').armored + k('ed').armored)
  writeFileSync(join(dir, keyFileName(s('noc').fingerprint)), s('noc').publicArmored)
  const r1 = await removeKey(dir, s('noc').fingerprint.toLowerCase())
  t.same(r1.map((x) => x.fingerprint), [s('noc').fingerprint])
  t.same(readdirSync(dir), ['bundle.asc'], 'single-key file removed')
  const longId = k('rsa').fingerprint.slice(-16).replace(/(....)/g, '$1 ')
  await removeKey(dir, longId)
  const left = await loadKeyring(dir)
  t.same(left.keys.map((x) => x.getFingerprint().toUpperCase()), [k('ed').fingerprint], 'bundle rewritten with the other key')
  t.match(readFileSync(join(dir, 'bundle.asc'), 'utf8'), /^-----BEGIN PGP PUBLIC KEY BLOCK-----/)
  await t.rejects(removeKey(dir, k('rsa').fingerprint), { code: 'E_NOT_FOUND', message: /no key/ })
})

t.test('a secret key file in the keyring folder is a problem for list and E_KEYRING for the agent', async (t) => {
  const dir = t.testdir({})
  writeFileSync(join(dir, 'noc.asc'), k('rsa').armored)
  writeFileSync(join(dir, 'oops.asc'), s('noc').secretArmored)
  const l = await listKeyring(dir)
  t.match(l.problems, [{ file: join(dir, 'oops.asc'), reason: /SECRET key/ }])
  await t.rejects(loadKeyring(dir), { code: 'E_KEYRING', message: /oops\.asc holds the SECRET key .* public keys only/ })
})

/** A key and its own copies: as first exported, and after gpg applied its revocation certificate. */
const revocable = (uid: string): { key: TestKey, fresh: string, rev: string } => {
  const key = makeKey({ algo: 'ed25519', expire: '1y', uid })
  const fresh = key.armored
  const rev = readFileSync(join(key.home, 'openpgp-revocs.d', `${key.fingerprint}.rev`), 'utf8')
  return { key, fresh, rev }
}

t.test('keys add of a revoked copy revokes the trusted key and says so; an unrevoked copy does not bring it back', async (t) => {
  const { key, fresh } = revocable('To Revoke <rev1@example.invalid>')
  t.teardown(() => key.dispose())
  const dir = t.testdir({ in: {} })
  const ring = join(dir, 'keys')
  writeFileSync(join(dir, 'in', 'fresh.asc'), fresh)
  writeFileSync(join(dir, 'in', 'other.asc'), k('rsa').armored)
  await addKeys(ring, join(dir, 'in', 'fresh.asc'))
  await addKeys(ring, join(dir, 'in', 'other.asc'))
  key.revoke()
  writeFileSync(join(dir, 'in', 'revoked.asc'), key.armored)
  const logs: string[] = []
  const infos = await addKeys(ring, join(dir, 'in', 'revoked.asc'), { log: (l, m) => logs.push(`${l}: ${m}`) })
  t.match(infos, [{ fingerprint: key.fingerprint, revoked: true, usable: false }])
  t.match(logs.join('\n'), new RegExp(`warning: Key ${key.fingerprint} \\(To Revoke <rev1@example.invalid>\\) is now REVOKED on this server`))
  const ring1 = await loadKeyring(ring)
  t.same(ring1.keys.map((x) => x.getFingerprint().toUpperCase()), [k('rsa').fingerprint], 'only the other key counts')
  t.match(ring1.dropped, [{ fingerprint: key.fingerprint, reason: 'revoked' }])
  await t.rejects(addKeys(ring, join(dir, 'in', 'fresh.asc')), { code: 'E_KEYRING', message: /is revoked in .*does not trust it again/ })
  t.equal((await loadKeyring(ring)).keys.length, 1, 'still revoked')
})

t.test('a revocation in any file revokes the key everywhere, in any order', async (t) => {
  const { key, fresh } = revocable('Copies <copies@example.invalid>')
  t.teardown(() => key.dispose())
  key.revoke()
  for (const [first, second] of [['a.asc', 'b.gpg'], ['b.asc', 'a.gpg']]) {
    const dir = t.testdir({})
    writeFileSync(join(dir, first as string), first?.startsWith('a') === true ? fresh : key.armored)
    writeFileSync(join(dir, second as string), first?.startsWith('a') === true ? key.binary : Buffer.from(fresh))
    const ring = await loadKeyring(dir)
    t.same(ring.keys, [], `${first} + ${second}: no usable key`)
    t.match(ring.dropped, [{ fingerprint: key.fingerprint, reason: 'revoked', file: /a\.(asc|gpg), .*b\.(asc|gpg)/ }])
    const l = await listKeyring(dir)
    t.same(l.keys.map((x) => x.revoked), [true, true], 'list shows both copies revoked')
  }
})

t.test('keys remove of the last usable key needs force and warns', async (t) => {
  const dir = t.testdir({})
  writeFileSync(join(dir, 'noc.asc'), k('rsa').armored)
  writeFileSync(join(dir, 'old.asc'), k('expired').armored)
  await t.rejects(removeKey(dir, k('rsa').fingerprint), { code: 'E_USAGE', message: /last usable NOC key .* refuses every stick until a new NOC key is added.*--force/ })
  t.ok(existsSync(join(dir, 'noc.asc')), 'nothing removed')
  await removeKey(dir, k('expired').fingerprint)
  t.notOk(existsSync(join(dir, 'old.asc')), 'a key that does not count goes without --force')
  const logs: string[] = []
  await removeKey(dir, k('rsa').fingerprint, { force: true, log: (l, m) => logs.push(`${l}: ${m}`) })
  t.match(logs.join('\n'), /warning: Removing the last usable NOC key .*--force.*refuses every stick/)
  t.same(readdirSync(dir), [])
})

t.test('keys revoke applies a GnuPG revocation certificate and a keys generate one', async (t) => {
  const { key, fresh, rev } = revocable('Gpg Made <gpg@example.invalid>')
  t.teardown(() => key.dispose())
  const gen = await generateNocKey({ userID: 'Xs Made <xs@example.invalid>', lifetimeSeconds: 86400 * 365 })
  const dir = t.testdir({ certs: {} })
  const ring = join(dir, 'keys')
  t.match(revocationArmor(rev), /^-----BEGIN PGP PUBLIC KEY BLOCK-----/m)
  writeFileSync(join(dir, 'certs', 'gpg.rev'), rev)
  writeFileSync(join(dir, 'certs', 'xs.revoke.asc'), gen.revocationCertificate)
  writeFileSync(join(dir, 'certs', 'junk.asc'), 'hello\n')
  writeFileSync(join(dir, 'in.asc'), fresh)
  writeFileSync(join(dir, 'in2.asc'), gen.publicKey)
  writeFileSync(join(dir, 'in3.asc'), k('rsa').armored)
  for (const f of ['in.asc', 'in2.asc', 'in3.asc']) await addKeys(ring, join(dir, f))
  const logs: string[] = []
  const log = (l: string, m: string): void => { logs.push(`${l}: ${m}`) }
  t.match(await revokeKey(ring, join(dir, 'certs', 'gpg.rev'), { log }), { fingerprint: key.fingerprint, revoked: true })
  t.match(await revokeKey(ring, join(dir, 'certs', 'xs.revoke.asc'), { log }), { fingerprint: gen.fingerprint, revoked: true })
  t.match(logs.join('\n'), /is now REVOKED on this server/)
  const loaded = await loadKeyring(ring)
  t.same(loaded.keys.map((x) => x.getFingerprint().toUpperCase()), [k('rsa').fingerprint])
  t.same(loaded.dropped.map((d) => d.reason), ['revoked', 'revoked'])
  await t.rejects(revokeKey(ring, join(dir, 'certs', 'junk.asc')), { code: 'E_KEYRING', message: /not an armored revocation certificate/ })
  await removeKey(ring, key.fingerprint)
  await t.rejects(revokeKey(ring, join(dir, 'certs', 'gpg.rev')), { code: 'E_NOT_FOUND', message: /revokes no key/ })
})
