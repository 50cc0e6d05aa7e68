import t from 'tap'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import { loadKeyring } from '../src/keyring.js'
import { makeKey, type TestKey } from './lib/gpg.js'

const keys: Record<string, TestKey> = {}
t.before(() => {
  keys.rsa = makeKey({ algo: 'rsa2048' })
  keys.ed = makeKey({ algo: 'ed25519' })
  keys.ed2 = makeKey({ algo: 'ed25519', uid: 'Second <second@example.invalid>' })
  keys.expired = makeKey({ algo: 'ed25519', expire: '1d', at: new Date('2020-01-01T00:00:00Z'), uid: 'Old <old@example.invalid>' })
  keys.revoked = makeKey({ algo: 'ed25519', uid: 'Revoked <revoked@example.invalid>' })
  keys.revoked.revoke()
})
t.teardown(() => { for (const k of Object.values(keys)) k.dispose() })

const k = (name: string): TestKey => keys[name] as TestKey

t.test('armored (many per file) and binary key files; expired and revoked keys dropped', async (t) => {
  const dir = t.testdir({ 'README~': 'x', '.hidden': 'not a key', sub: {} })
  writeFileSync(join(dir, 'noc.asc'), k('rsa').armored + k('ed').armored)
  writeFileSync(join(dir, 'noc2.gpg'), Buffer.concat([k('ed2').binary, k('rsa').binary]))
  writeFileSync(join(dir, 'old.asc'), k('expired').armored)
  writeFileSync(join(dir, 'revoked.gpg'), k('revoked').binary)
  const logs: string[] = []
  const ring = await loadKeyring(dir, { log: (level, msg) => logs.push(`${level}: ${msg}`) })
  t.same(ring.keys.map((x) => x.getFingerprint().toUpperCase()).sort(),
    [k('rsa').fingerprint, k('ed').fingerprint, k('ed2').fingerprint].sort(), 'usable keys, each once')
  t.same(ring.dropped.map((d) => [d.fingerprint, d.reason.replace(/ on .*/, '')]).sort(),
    [[k('expired').fingerprint, 'expired'], [k('revoked').fingerprint, 'revoked']].sort())
  t.match(logs.join('\n'), /warning: Key .* in .*old\.asc does not count: expired/)
  t.match(logs.join('\n'), /warning: Key .* in .*revoked\.gpg does not count: revoked/)
})

t.test('missing folder: empty keyring; junk file: E_KEYRING naming it', async (t) => {
  const dir = t.testdir({ 'junk.asc': 'this is not a key\n', 'empty.gpg': '' })
  const ring = await loadKeyring(join(dir, 'nope'))
  t.same(ring.keys, [])
  await t.rejects(loadKeyring(dir), { name: 'XsError', code: 'E_KEYRING', message: /empty\.gpg|junk\.asc/ })
  const dir2 = t.testdir({ 'armor.asc': '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n' })
  await t.rejects(loadKeyring(dir2), { code: 'E_KEYRING', message: /armor\.asc/ })
})

t.test('only *.asc, *.gpg and *.pgp are read: a stray README is a warning, never a refusal', async (t) => {
  const dir = t.testdir({ README: 'keys of our NOC\n', 'notes.txt': 'x', 'noc.pub': 'not read either', 'folder.asc': {} })
  writeFileSync(join(dir, 'noc.pgp'), k('ed').binary)
  const logs: string[] = []
  const ring = await loadKeyring(dir, { log: (level, msg) => logs.push(`${level}: ${msg}`) })
  t.same(ring.keys.map((x) => x.getFingerprint().toUpperCase()), [k('ed').fingerprint])
  for (const f of ['README', 'notes.txt', 'noc.pub']) t.match(logs.join('\n'), new RegExp(`warning: Ignoring .*/${f.replace('.', '\\.')} in the keyring folder: not a key file`))
  t.match(logs.join('\n'), /warning: Ignoring .*folder\.asc in the keyring folder: not a regular file/)
  t.ok(ring.exists)
  t.notOk((await loadKeyring(join(dir, 'nope'))).exists, 'a missing folder says so')
})
