import t from 'tap'
import { resolveSecurityMode, signaturePolicy, type TrustState } from '../src/security-mode.js'
import type { DroppedKey } from '../src/keyring.js'

const expired: DroppedKey = {
  file: '/k/noc.asc', fingerprint: 'A'.repeat(40), userID: 'NOC <noc@example.invalid>', keyIDs: ['A'.repeat(16)], reason: 'expired on 2020-01-02T00:00:00.000Z',
}
const revoked: DroppedKey = { ...expired, fingerprint: 'B'.repeat(40), file: '/k/b.gpg', reason: 'revoked' }
const state = (o: Partial<TrustState>): TrustState =>
  ({ dir: '/k', exists: true, usable: 0, dropped: [], defaultPlace: true, trustedBefore: false, ...o })

t.test('resolveSecurityMode: trust never drops by itself (table)', async (t) => {
  const table: Array<[string, Parameters<typeof resolveSecurityMode>[0], Partial<TrustState>, 'enforcing' | 'permissive' | RegExp]> = [
    ['usable key', undefined, { usable: 1 }, 'enforcing'],
    ['three usable keys', undefined, { usable: 3, dropped: [expired] }, 'enforcing'],
    ['fresh install: default folder absent, never trusted', undefined, { exists: false }, 'permissive'],
    ['fresh install: default folder empty (setup made it), never trusted', undefined, {}, 'permissive'],
    ['default folder absent, but trusted before', undefined, { exists: false, trustedBefore: true }, /trusted a NOC key before .* is gone.* holds no NOC key/],
    ['default folder empty, trusted before', undefined, { trustedBefore: true }, /trusted a NOC key before .* is empty/],
    ['configured folder missing (typo)', undefined, { exists: false, defaultPlace: false }, /\/k \(keyring = \/k\) does not exist: fix the keyring setting/],
    ['configured folder missing, enforcing', 'enforcing', { exists: false, defaultPlace: false }, /does not exist/],
    ['configured folder empty', undefined, { defaultPlace: false }, /holds no NOC key/],
    ['only key expired', undefined, { dropped: [expired] }, /no key in \/k counts: A{40} \(NOC <noc@example.invalid>\) in \/k\/noc\.asc: expired on 2020.*The NOC must sign sticks with a current key.*keys add/],
    ['only key revoked (configured place)', undefined, { dropped: [revoked], defaultPlace: false }, /B{40} .* revoked/],
    ['expired and revoked', undefined, { dropped: [expired, revoked] }, /expired on .*; B{40}.*revoked/],
    ['explicit permissive, no keys', 'permissive', { exists: false, defaultPlace: false }, 'permissive'],
    ['explicit permissive, usable keys', 'permissive', { usable: 2 }, 'permissive'],
    ['explicit permissive, only expired keys', 'permissive', { dropped: [expired] }, 'permissive'],
    ['explicit enforcing with a key', 'enforcing', { usable: 1 }, 'enforcing'],
    ['explicit enforcing, fresh install', 'enforcing', { exists: false }, /security is enforcing \(as configured\) but \/k holds no NOC key/],
  ]
  for (const [name, configured, s, want] of table) {
    if (want instanceof RegExp) {
      t.throws(() => resolveSecurityMode(configured, state(s)), { code: 'E_KEYRING', message: want }, name)
    } else {
      t.equal(resolveSecurityMode(configured, state(s)).mode, want, name)
    }
  }
  t.match(resolveSecurityMode(undefined, state({ exists: false })).why, /fresh install: \/k does not exist and this server never trusted a NOC key/)
  t.match(resolveSecurityMode('permissive', state({})).why, /as configured/)
})

t.test('signaturePolicy: a present signature is always verified; unsigned only when permissive', async (t) => {
  t.equal(signaturePolicy('enforcing', true, 'm'), 'verify')
  t.equal(signaturePolicy('permissive', true, 'm'), 'verify')
  t.equal(signaturePolicy('permissive', false, 'm'), 'accept-unsigned')
  t.throws(() => signaturePolicy('enforcing', false, '/s/manifest.sha256'), { code: 'E_SIGNATURE_MISSING', message: /manifest\.sha256/ })
})
