import t from 'tap'
import { readKeys, type PublicKey } from 'openpgp'
import { armorIsWhole, verifyDetachedSignature } from '../src/verify-signature.js'
import { makeKey } from './lib/gpg.js'

const data = new Uint8Array(Buffer.from('0123456789abcdef0123456789abcdef01234567  build-44-tree.tar.bz2\n'))
const pub = async (armoredKeys: string): Promise<PublicKey[]> => (await readKeys({ armoredKeys })) as PublicKey[]

t.test('gpg signatures by a pinned key verify: RSA + Ed25519, binary + armored', async (t) => {
  for (const algo of ['rsa2048', 'ed25519'] as const) {
    const key = makeKey({ algo })
    t.teardown(() => key.dispose())
    const keys = await pub(key.armored)
    for (const armor of [false, true]) {
      const before = new Date(Date.now() - 2000)
      const res = await verifyDetachedSignature({ data, signature: key.sign(data, { armor }), keys })
      t.equal(res.fingerprint, key.fingerprint, `${algo} armor=${armor}: fingerprint`)
      t.match(res.userID, /^NOC Test .* <noc@example.invalid>$/, `${algo} armor=${armor}: user id`)
      t.match(res.keyID, /^[0-9A-F]{16}$/)
      t.ok(res.created >= new Date(Math.floor(before.getTime() / 1000) * 1000), 'created is the signing time')
    }
  }
})

t.test('refusals: never fails open', async (t) => {
  const key = makeKey({ algo: 'ed25519' })
  t.teardown(() => key.dispose())
  const other = makeKey({ algo: 'ed25519', uid: 'Other <other@example.invalid>' })
  t.teardown(() => other.dispose())
  const keys = await pub(key.armored)
  const sig = key.sign(data)
  const tampered = new Uint8Array(data)
  tampered[0] = 0x31
  const cases: Array<[string, Parameters<typeof verifyDetachedSignature>[0], RegExp]> = [
    ['data changed after signing', { data: tampered, signature: sig, keys }, /no valid signature/],
    ['signed by an unknown key', { data, signature: other.sign(data), keys }, /no valid signature/],
    ['no trusted keys at all', { data, signature: sig, keys: [] }, /unknown key/],
    ['junk instead of a signature', { data, signature: Buffer.from('hello world, not a signature'), keys }, /not an OpenPGP detached signature/],
    ['empty signature file', { data, signature: Buffer.alloc(0), keys }, /not an OpenPGP|holds 0 signatures/],
    ['armored junk', { data, signature: Buffer.from('-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----\n'), keys }, /not an OpenPGP/],
    ['a public key instead of a signature', { data, signature: key.binary, keys }, /not an OpenPGP|something other than a signature/],
    ['two good signatures by the trusted key in one binary file', { data, signature: Buffer.concat([sig, key.sign(data)]), keys }, /holds 2 signatures; .* exactly one/],
    ['a good signature and one by an unknown key', { data, signature: Buffer.concat([sig, other.sign(data)]), keys }, /holds 2 signatures/],
    ['a bad signature (other bytes) before a good one', { data, signature: Buffer.concat([key.sign(tampered), sig]), keys }, /holds 2 signatures/],
    ['clear-signed message', { data, signature: Buffer.from('-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nx\n'), keys }, /clear-signed/],
    ['a valid armored signature with text after it', { data, signature: Buffer.concat([key.sign(data, { armor: true }), Buffer.from('trailing words\n')]), keys }, /not one armored signature block alone/],
    ['two armored signatures, one after the other', { data, signature: Buffer.concat([key.sign(data, { armor: true }), other.sign(data, { armor: true })]), keys }, /not one armored signature block alone/],
  ]
  for (const [name, opts, message] of cases) {
    await t.rejects(verifyDetachedSignature({ ...opts, where: 'manifest.sha256.sig' }),
      { name: 'XsError', code: 'E_SIGNATURE_BAD', message }, name)
  }
  await t.rejects(verifyDetachedSignature({ data, signature: other.sign(data), keys }),
    { code: 'E_SIGNATURE_BAD', actual: /^[0-9A-F]{16}$/ }, 'the signing key ID is reported')
})

t.test('armorIsWhole', async (t) => {
  const block = '-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----'
  const cases: Array<[string, boolean]> = [
    [block, true], [`${block}\n`, true], [`${block}\r\n\n  \t\n`, true], [`\n\n${block}\n`, true],
    [`${block}\nx`, false], [`${block}${block}`, false], [`${block}\n${block}\n`, false], ['-----BEGIN PGP SIGNATURE-----\n\nAAAA\n', false],
  ]
  for (const [text, whole] of cases) t.equal(armorIsWhole(text), whole, JSON.stringify(text))
})

t.test('a key revoked or expired at the given date does not count', async (t) => {
  const key = makeKey({ algo: 'ed25519', expire: '1d' })
  t.teardown(() => key.dispose())
  const keys = await pub(key.armored)
  const sig = key.sign(data)
  t.ok(await verifyDetachedSignature({ data, signature: sig, keys }), 'valid now')
  const later = new Date(Date.now() + 3 * 86400_000)
  await t.rejects(verifyDetachedSignature({ data, signature: sig, keys, date: later }), { code: 'E_SIGNATURE_BAD' }, 'expired')
  key.revoke()
  await t.rejects(verifyDetachedSignature({ data, signature: sig, keys: await pub(key.armored) }), { code: 'E_SIGNATURE_BAD' }, 'revoked')
})
