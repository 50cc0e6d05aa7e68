import t from 'tap'
import { readPrivateKey, readKey } from 'openpgp'
import { generateNocKey, parseLifetime, parseUserID } from '../src/generate-noc-key.js'
import { readSigningKey, signDetached } from '../src/sign-detached.js'
import { describeKey } from '../src/keyring-admin.js'
import { verifyDetachedSignature } from '../src/verify-signature.js'

t.test('key lifetimes (table)', async (t) => {
  const ok: [string, number][] = [['2y', 2 * 365 * 86400], ['18m', 18 * 30 * 86400], ['26w', 26 * 7 * 86400], ['365d', 365 * 86400], ['never', 0]]
  for (const [s, want] of ok) t.equal(parseLifetime(s), want, s)
  for (const s of ['', '2', 'y', '0d', '-1y', '2 years', '1h']) t.throws(() => parseLifetime(s), { code: 'E_USAGE' }, s)
})

t.test('user ids (table)', async (t) => {
  const ok: [string, object][] = [
    ['School NOC <noc@example.org>', { name: 'School NOC', email: 'noc@example.org' }],
    ['  NOC 2027  <noc2027@example.org> ', { name: 'NOC 2027', email: 'noc2027@example.org' }],
    ['Just a name', { name: 'Just a name' }],
    ['<noc@example.org>', { name: '', email: 'noc@example.org' }],
  ]
  for (const [s, want] of ok) t.same(parseUserID(s), want, s)
  // the last three passed this check once and then failed inside openpgp as an "internal error"
  for (const s of ['', '   ', 'Bad <name', 'tab\there', 'N <a@b@c>', 'N <a@@b>', 'N <noc@example.>']) {
    t.throws(() => parseUserID(s), { code: 'E_USAGE' }, JSON.stringify(s))
    await t.rejects(generateNocKey({ userID: s, lifetimeSeconds: 0 }), { code: 'E_USAGE' }, `generate ${JSON.stringify(s)}`)
  }
  // what this parser accepts, openpgp accepts too
  for (const [s] of ok) await t.resolves(generateNocKey({ userID: s, lifetimeSeconds: 0 }), `generate ${JSON.stringify(s)}`)
})

t.test('a generated key is protected, expires when asked, and signs what the agent verifies', async (t) => {
  const at = new Date()
  const k = await generateNocKey({ userID: 'Test NOC <noc@example.invalid>', passphrase: 'pw', lifetimeSeconds: 365 * 86400 })
  const priv = await readPrivateKey({ armoredKey: k.secretKey })
  t.notOk(priv.isDecrypted(), 'secret key is encrypted with the passphrase')
  t.equal(priv.getFingerprint().toUpperCase(), k.fingerprint)
  const info = await describeKey(await readKey({ armoredKey: k.publicKey }))
  t.match(info, { fingerprint: k.fingerprint, algorithm: 'Ed25519', secret: false, usable: true, userIDs: ['Test NOC <noc@example.invalid>'] })
  const days = (Date.parse(info.expires ?? '') - at.getTime()) / 86400e3
  t.ok(days > 364 && days < 366, `expires in a year (${days})`)
  await t.rejects(readSigningKey(k.secretKey, { passphrase: 'wrong' }), { code: 'E_KEYRING' })
  const data = new TextEncoder().encode('abc  x\n')
  const sig = await signDetached({ data, secretKey: await readSigningKey(k.secretKey, { passphrase: 'pw' }) })
  const res = await verifyDetachedSignature({ data, signature: sig, keys: [await readKey({ armoredKey: k.publicKey })] })
  t.equal(res.fingerprint, k.fingerprint)
  const never = await generateNocKey({ userID: 'Forever', lifetimeSeconds: 0 })
  t.ok((await readPrivateKey({ armoredKey: never.secretKey })).isDecrypted(), 'no passphrase: unprotected')
  t.equal((await describeKey(await readKey({ armoredKey: never.publicKey }))).expires, null)
})
