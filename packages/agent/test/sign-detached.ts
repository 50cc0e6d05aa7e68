import t from 'tap'
import { readSigningKey, signDetached } from '../src/sign-detached.js'
import { verifyDetachedSignature } from '../src/verify-signature.js'
import { readKeys } from 'openpgp'
import { makeSecretKey, type SecretTestKey } from './lib/gpg-secret.js'

const keys: Record<string, SecretTestKey> = {}
t.before(() => {
  keys.ed = makeSecretKey({ algo: 'ed25519', passphrase: 'correct horse' })
  keys.rsa = makeSecretKey({ algo: 'rsa2048' })
  keys.expired = makeSecretKey({ expire: '1d', at: new Date('2020-01-01T00:00:00Z'), uid: 'Old <old@example.invalid>' })
  keys.cert = makeSecretKey({ usage: 'cert', uid: 'Cert only <cert@example.invalid>' })
})
t.teardown(() => { for (const k of Object.values(keys)) k.dispose() })
const k = (n: string): SecretTestKey => keys[n] as SecretTestKey

const data = new TextEncoder().encode('0123abcd  os44-tree.tar.bz2\n')

t.test('gpg-exported secret keys (armored and binary, with and without passphrase) sign what gpg verifies', async (t) => {
  const cases: [string, Uint8Array | string, string | undefined][] = [
    ['ed25519 armored, passphrase', k('ed').secretArmored, 'correct horse'],
    ['ed25519 binary, passphrase', k('ed').secretBinary, 'correct horse'],
    ['rsa armored as bytes, none', Buffer.from(k('rsa').secretArmored), undefined],
    ['rsa binary, none', k('rsa').secretBinary, undefined],
  ]
  for (const [what, secretKey, passphrase] of cases) {
    for (const armor of [true, false]) {
      const sig = await signDetached({ data, secretKey, armor, ...(passphrase !== undefined && { passphrase }) })
      const owner = what.startsWith('ed') ? k('ed') : k('rsa')
      const v = owner.gpgVerify(data, sig)
      t.ok(v.ok, `${what}, ${armor ? 'armored' : 'binary'}: gpg --verify accepts it`)
      t.notOk(owner.gpgVerify(new TextEncoder().encode('tampered\n'), sig).ok, `${what}: gpg refuses it for other data`)
      const pub = (await readKeys({ armoredKeys: owner.publicArmored })).map((x) => x.toPublic())
      const res = await verifyDetachedSignature({ data, signature: sig, keys: pub })
      t.equal(res.fingerprint, owner.fingerprint, `${what}: the agent verifies it too`)
    }
  }
})

t.test('unusable signing keys are E_KEYRING with the reason', async (t) => {
  await t.rejects(readSigningKey(k('ed').secretArmored), { code: 'E_KEYRING', message: /protected by a passphrase and none was given/ })
  await t.rejects(readSigningKey(k('ed').secretArmored, { passphrase: 'wrong' }), { code: 'E_KEYRING', message: /cannot unlock/ })
  await t.rejects(readSigningKey(k('ed').publicArmored, { where: 'pub.asc' }), { code: 'E_KEYRING', message: /pub\.asc is not an OpenPGP secret key/ })
  await t.rejects(readSigningKey(k('expired').secretArmored), { code: 'E_KEYRING', message: /cannot sign/ })
  await t.rejects(readSigningKey(k('cert').secretBinary), { code: 'E_KEYRING', message: /cannot sign/ })
  await t.rejects(readSigningKey(Buffer.from('junk')), { code: 'E_KEYRING' })
})
