// Threat: a hostile or sloppy stick (manifest, signature, keys, layout, build
// NAME). A store already serves build 44 (signed 5 days ago). Each stick is
// built in code and named after the attack; a refused one leaves the published
// builds, the rsync config and xobuilds-packed exactly as they were, no
// staging, a status that says why, and no success line. Harmless oddities
// (CRLF manifests, macOS `._*` files) are accepted or ignored with a log line.
// More stick refusals (bad hash, missing/symlinked file, unsigned, unknown,
// expired and revoked keys, downgrade, no room) are in test/ingest-refusals.ts.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { ingest, readStatus } from '@xs-rsync/agent'
import type { XsConfig } from '@xs-rsync/core'
import {
  daysAgo, disposeKeys, logSink, makeKeys, sampleBuild, stagingLeft, stickOf, storeSnapshot, testConfig, writeKeyring, type Keys,
} from '../../packages/agent/test/lib/ingest-fixture.js'
import { makeKey, type TestKey } from '../../packages/agent/test/lib/gpg.js'
import { signStick, type BuildFiles } from '../../packages/agent/test/lib/stick.js'
import { clearSign, makeAuthOnlySubkey, type AuthOnlySubkey } from '../lib/forge-signature.js'
import { listModules, pullBuild } from '../lib/pull-build.js'
import { startServe } from '../lib/start-serve.js'

let keys: Keys
let future: TestKey
let authOnly: AuthOnlySubkey
t.before(async () => {
  keys = makeKeys()
  // made (and signing) 10 days from now: not valid yet
  future = makeKey({ algo: 'ed25519', expire: '1y', at: new Date(Date.now() + 10 * 86400_000), uid: 'Future NOC <future@example.invalid>' })
  authOnly = await makeAuthOnlySubkey()
})
t.teardown(() => { disposeKeys(keys); future.dispose(); authOnly.dispose() })

const xob = (stick: string, f = ''): string => join(stick, 'xs-xobuilds', f)
const MANIFEST = 'manifest.sha256'

t.test('hostile sticks are refused and change nothing; laptops still get 44', async (t) => {
  const dir = t.testdir({})
  const keyring = writeKeyring(join(dir, 'keys'), keys)
  writeFileSync(join(keyring, 'future-noc.asc'), future.armored)
  writeFileSync(join(keyring, 'auth-only.asc'), authOnly.publicArmored)
  const config: XsConfig = testConfig(dir, keyring)
  const b44 = await sampleBuild(dir, '44')
  const b45 = await sampleBuild(dir, '45', 'new')
  await ingest({ config, source: stickOf(dir, [b44], { key: keys.rsa, at: daysAgo(5) }) })

  /** A stick holding 45 whose manifest is rewritten by `edit`, then signed (detached, binary) by the trusted Ed25519 key. */
  const resigned = (edit: (m: string) => string, builds: BuildFiles[] = [b45]): string => {
    const s = stickOf(dir, builds)
    const m = edit(readFileSync(xob(s, MANIFEST), 'utf8'))
    writeFileSync(xob(s, MANIFEST), m)
    writeFileSync(xob(s, `${MANIFEST}.sig`), keys.ed.sign(Buffer.from(m)))
    return s
  }
  /** A stick holding 45 with `sig(manifest bytes)` as its signature file. */
  const withSig = (sig: (m: Buffer) => Buffer | Promise<Buffer>) => async (): Promise<string> => {
    const s = stickOf(dir, [b45])
    writeFileSync(xob(s, `${MANIFEST}.sig`), await sig(readFileSync(xob(s, MANIFEST))))
    return s
  }
  const nameStick = (nameText: string) => (): string => {
    const s = stickOf(dir, [b45])
    writeFileSync(xob(s, basename(b45.nameFile)), nameText)
    signStick(xob(s), { key: keys.ed })
    return s
  }

  const cases: Array<[string, () => string | Promise<string>, string, RegExp]> = [
    ['manifest lists a file twice', () => resigned((m) => m + m.split('\n')[0] + '\n'), 'E_MANIFEST', /line \d+: \S+ is listed twice/],
    ['manifest entry written as ./name', () => resigned((m) => m.replace('  os45.name', '  ./os45.name')), 'E_MANIFEST', /file name contains "\/"/],
    ['manifest entry with a backslash path', () => resigned((m) => m.replace('  os45.name', '  ..\\os45.name')), 'E_MANIFEST', /file name contains "\\"/],
    ['manifest over 1 MiB', () => resigned((m) => m + `${'0'.repeat(64)}  pad\n`.repeat(16_000)), 'E_MANIFEST', /manifest\.sha256 .*(1 MiB|1048576)/],
    ['signature over other bytes (a valid signature of another manifest)', withSig(() => keys.ed.sign(Buffer.from(`${'0'.repeat(64)}  os45.name\n`))),
      'E_SIGNATURE_BAD', /no valid signature by a trusted key/],
    ['binary signature with junk after it', withSig((m) => Buffer.concat([keys.ed.sign(m), Buffer.from('\0junk after the signature\n')])),
      'E_SIGNATURE_BAD', /manifest\.sha256\.sig is not an OpenPGP detached signature/],
    ['binary signature with junk before it', withSig((m) => Buffer.concat([Buffer.from('junk\n'), keys.ed.sign(m)])),
      'E_SIGNATURE_BAD', /not an OpenPGP detached signature/],
    ['armored signature with junk before it', withSig((m) => Buffer.concat([Buffer.from('junk\n'), keys.ed.sign(m, { armor: true })])),
      'E_SIGNATURE_BAD', /not an OpenPGP detached signature/],
    ['two signatures, the trusted one over other bytes', withSig((m) => Buffer.concat([keys.other.sign(m), keys.ed.sign(Buffer.from('other bytes'))])),
      'E_SIGNATURE_BAD', /holds 2 signatures; a stick's signature file must hold exactly one/],
    ['clear-signed manifest passed as the detached signature', withSig((m) => clearSign(keys.ed.home, keys.ed.fingerprint, m)),
      'E_SIGNATURE_BAD', /is a clear-signed message, not a detached signature/],
    ['clear-signed manifest as the manifest (its detached signature valid)', () => {
      const s = stickOf(dir, [b45])
      const m = clearSign(keys.ed.home, keys.ed.fingerprint, readFileSync(xob(s, MANIFEST)))
      writeFileSync(xob(s, MANIFEST), m)
      writeFileSync(xob(s, `${MANIFEST}.sig`), keys.ed.sign(m))
      return s
    }, 'E_MANIFEST', /line 1: not a sha256sum line/],
    ['key not yet valid (made and signing in the future)', () => stickOf(dir, [b45], { key: future, at: new Date(Date.now() + 10 * 86400_000 + 3_600_000) }),
      'E_SIGNATURE_BAD', /creation time is in the future/],
    ['signature by a subkey without the signing flag', withSig((m) => authOnly.forge(m)), 'E_SIGNATURE_BAD',
      /auth-only\.asc\) does not count: no valid signing key/],
    ['two xs-xobuilds candidates', () => {
      const s = stickOf(dir, [b45], { key: keys.ed })
      execFileSync('cp', ['-a', xob(s), join(s, 'XS-XOBUILDS')])
      return s
    }, 'E_MANIFEST', /holds more than one builds folder: XS-XOBUILDS, xs-xobuilds/],
    ['xs-xobuilds is a symlink to a server folder', () => {
      const s = stickOf(dir, [b45], { key: keys.ed })
      renameSync(xob(s), join(dir, `elsewhere-${basename(s)}`))
      symlinkSync(join(dir, `elsewhere-${basename(s)}`), join(s, 'xs-xobuilds'))
      return s
    }, 'E_MANIFEST', /xs-xobuilds is a symbolic link/],
    ['build NAME that opens a new rsync module', nameStick('45]\n[root]\npath = /\n'), 'E_BUILD_NAME', /build name "45\]" is not allowed/],
    ['build NAME that sets a parameter', nameStick('45 = x\n'), 'E_BUILD_NAME', /build name "45 = x" is not allowed/],
    ['build NAME with a path', nameStick('../../etc\n'), 'E_BUILD_NAME', /not allowed/],
    ['build NAME hidden (leading dot)', nameStick('.45\n'), 'E_BUILD_NAME', /build name "\.45" is not allowed/],
    ['build NAME with a comment char', nameStick('45#x\n'), 'E_BUILD_NAME', /not allowed/],
    ['build NAME too long', nameStick(`${'4'.repeat(65)}\n`), 'E_BUILD_NAME', /not allowed/],
    ['build NAME with a control char', nameStick('45\x1b[2J\n'), 'E_BUILD_NAME', /not allowed/],
  ]

  for (const [threat, make, code, message] of cases) {
    await t.test(threat, async (t) => {
      const before = await storeSnapshot(config)
      const { log, text } = logSink()
      const source = await make()
      const err = await ingest({ config, source, log }).then(() => undefined, (er: unknown) => er as Error & { code: string })
      t.ok(err, 'refused')
      t.match(err, { code, message })
      t.same(await storeSnapshot(config), before, 'published builds, rsync config and xobuilds-packed unchanged')
      t.same(stagingLeft(config), [], 'no staging left')
      t.notMatch(text(), /DONE:/, 'no success line')
      t.match((await readStatus(join(config.root, 'state'))).last, { ok: false, code })
    })
  }

  await t.test('laptops still get exactly 44', async (t) => {
    const served = await startServe({ config })
    t.teardown(served.stop)
    t.same(listModules(served.port), ['build-44'])
    const pull = pullBuild(served.port, 'build-44', join(dir, 'laptop'), join(dir, 'laptop.state'))
    t.equal(pull.status, 0, pull.stderr)
    t.equal(readFileSync(join(dir, 'laptop', 'root', 'etc', 'hostname'), 'utf8'), 'xo-laptop\n')
  })
})

t.test('harmless oddities: accepted as the manifest says, extra files ignored and logged', async (t) => {
  const dir = t.testdir({})
  const config: XsConfig = testConfig(dir, writeKeyring(join(dir, 'keys'), keys))
  const b45 = await sampleBuild(dir, '45', 'new')

  await t.test('a manifest with CRLF line ends (edited on Windows)', async (t) => {
    const s = stickOf(dir, [b45])
    const m = readFileSync(xob(s, MANIFEST), 'utf8').replaceAll('\n', '\r\n')
    writeFileSync(xob(s, MANIFEST), m)
    writeFileSync(xob(s, `${MANIFEST}.sig`), keys.ed.sign(Buffer.from(m)))
    const r = await ingest({ config, source: s, check: true })
    t.same(r.published, ['45'])
    t.same(stagingLeft(config), [])
  })

  await t.test('text after the END line of an armored signature is refused, even when the signature is good', async (t) => {
    const s = stickOf(dir, [b45])
    const m = readFileSync(xob(s, MANIFEST))
    writeFileSync(xob(s, `${MANIFEST}.sig`), Buffer.concat([keys.ed.sign(m, { armor: true }), Buffer.from('trailing junk\n')]))
    await t.rejects(ingest({ config, source: s, check: true }), { code: 'E_SIGNATURE_BAD', message: /manifest\.sha\d+\.sig is not one armored signature block alone/ })
    writeFileSync(xob(s, `${MANIFEST}.sig`), Buffer.concat([keys.ed.sign(m, { armor: true }), Buffer.from('\n\n')]))
    t.same((await ingest({ config, source: s, check: true })).published, ['45'], 'blank lines after it are fine')
  })

  await t.test('macOS ._* files next to the builds are never read', async (t) => {
    const s = stickOf(dir, [b45], { key: keys.ed })
    for (const f of [b45.tarball, b45.nameFile]) writeFileSync(xob(s, `._${basename(f)}`), Buffer.from('\0\x05\x16\x07AppleDouble junk'))
    mkdirSync(join(s, '.Spotlight-V100'))
    const { log, text } = logSink()
    const r = await ingest({ config, source: s, check: true, log })
    t.same(r.published, ['45'])
    t.same(r.ignored.sort(), [`._${basename(b45.nameFile)}`, `._${basename(b45.tarball)}`].sort())
    t.match(text(), /\._os45/, 'the ignored files are named in the log')
  })
})
