import t from 'tap'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { addKeys, algorithmName, keyFileName, listKeyring, normalizeKeyId, removeKey } from '../src/keyring-admin.js'
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
  t.same(await listKeyring(join(dir, 'missing')), { dir: join(dir, 'missing'), keys: [], problems: [] })
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
