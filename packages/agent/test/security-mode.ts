import t from 'tap'
import { resolveSecurityMode, signaturePolicy } from '../src/security-mode.js'

t.test('resolveSecurityMode table', async (t) => {
  const table: Array<[Parameters<typeof resolveSecurityMode>[0], number, string | RegExp]> = [
    [undefined, 0, 'permissive'],
    [undefined, 1, 'enforcing'],
    [undefined, 3, 'enforcing'],
    ['permissive', 2, 'permissive'],
    ['enforcing', 1, 'enforcing'],
    ['enforcing', 0, /holds no usable NOC key/],
  ]
  for (const [configured, keys, want] of table) {
    const name = `${configured ?? 'unset'} with ${keys} keys`
    if (want instanceof RegExp) {
      t.throws(() => resolveSecurityMode(configured, keys, '/k'), { code: 'E_KEYRING', message: want }, name)
    } else {
      t.equal(resolveSecurityMode(configured, keys, '/k').mode, want, name)
    }
  }
  t.match(resolveSecurityMode(undefined, 0, '/k').why, /no usable/)
})

t.test('signaturePolicy: a present signature is always verified; unsigned only when permissive', async (t) => {
  t.equal(signaturePolicy('enforcing', true, 'm'), 'verify')
  t.equal(signaturePolicy('permissive', true, 'm'), 'verify')
  t.equal(signaturePolicy('permissive', false, 'm'), 'accept-unsigned')
  t.throws(() => signaturePolicy('enforcing', false, '/s/manifest.sha256'), { code: 'E_SIGNATURE_MISSING', message: /manifest\.sha256/ })
})
