// Threat: trust that weakens by itself, a keyring that does not mean what the
// admin thinks, ambiguous signatures and manifests, and a stick that harms
// another build (issue 10). Each case runs the real CLI (`xs-rsync ingest`) on
// a stick made in code with real GnuPG keys, against a store that already
// serves 44 and Alpha. A refusal must give its exit status and exactly one
// FAILED line, publish nothing (builds, rsync config and xobuilds-packed
// unchanged), leave ROOT/tmp empty and the stick unchanged; laptops still get
// 44 afterwards.
import t from 'tap'
import { createHash } from 'node:crypto'
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { ERROR_TABLE, type ErrorCode, type XsConfig } from '@xs-rsync/core'
import { ingest } from '@xs-rsync/agent'
import { sampleEntries } from '../packages/xs-rsync/src/demo/sample-build.js'
import {
  daysAgo, disposeKeys, makeKeys, sampleBuild, stagingLeft, stickOf, storeSnapshot, testConfig, writeKeyring, type Keys,
} from '../packages/agent/test/lib/ingest-fixture.js'
import { makeKey, type TestKey } from '../packages/agent/test/lib/gpg.js'
import { makeSecretKey, type SecretTestKey } from '../packages/agent/test/lib/gpg-secret.js'
import { manifestOf, signStick, type BuildFiles } from '../packages/agent/test/lib/stick.js'
import { listModules, pullBuild } from './lib/pull-build.js'
import { startServe } from './lib/start-serve.js'
import { xsRsync } from './lib/xs-cli.js'

let keys: Keys
let rotated: { key: TestKey, fresh: string }
let secret: SecretTestKey
t.before(() => {
  keys = makeKeys()
  const key = makeKey({ algo: 'ed25519', expire: '1y', at: daysAgo(30), uid: 'Stolen NOC <stolen@example.invalid>' })
  rotated = { key, fresh: key.armored }
  key.revoke()
  secret = makeSecretKey({ algo: 'ed25519' })
})
t.teardown(() => { disposeKeys(keys); rotated.key.dispose(); secret.dispose() })

const xob = (stick: string, f = ''): string => join(stick, 'xs-xobuilds', f)

/** Every file of a folder tree: name, mode, bytes. */
const treeHash = (dir: string): string => {
  const h = createHash('sha256')
  const walk = (d: string): void => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n)
      const st = statSync(p)
      h.update(`${p.slice(dir.length)}\0${st.mode}\0`)
      if (st.isDirectory()) walk(p)
      else h.update(readFileSync(p))
    }
  }
  walk(dir)
  return h.digest('hex')
}

/** The files of `b` under another base name (os<base>-tree.tar.bz2 ...); the .name keeps the build NAME. */
const renamed = (dir: string, b: BuildFiles, base: string): BuildFiles => {
  const out = join(dir, `renamed-${base}-${basename(b.tarball)}`)
  mkdirSync(out, { recursive: true })
  const to = {
    tarball: join(out, `${base}-tree.tar.bz2`), md5File: join(out, `${base}-tree.tar.bz2.md5`),
    contentsFile: join(out, `${base}.contents`), nameFile: join(out, `${base}.name`),
  }
  for (const k of ['tarball', 'md5File', 'contentsFile', 'nameFile'] as const) copyFileSync(b[k], to[k])
  return to
}

const FAILED_RE = /^xs-rsync: error: FAILED: /

t.test('sticks the trust rules refuse: exit status, one FAILED line, nothing published, stick unchanged', async (t) => {
  const dir = t.testdir({})
  const keyring = writeKeyring(join(dir, 'keys'), keys)
  const ring = (name: string, files: Record<string, string | Buffer>): string => {
    const d = join(dir, `ring-${name}`)
    mkdirSync(d, { recursive: true })
    for (const [f, data] of Object.entries(files)) writeFileSync(join(d, f), data)
    return d
  }
  const config: XsConfig = testConfig(dir, keyring)
  const b44 = await sampleBuild(dir, '44')
  const alpha = await sampleBuild(dir, 'Alpha')
  await ingest({ config, source: stickOf(dir, [b44, alpha], { key: keys.rsa, at: daysAgo(5) }) })
  const b45 = await sampleBuild(dir, '45', 'new')
  const b44v2 = await sampleBuild(dir, '44', 'v2')
  const signed = (builds: BuildFiles[] = [b45], key: TestKey = keys.ed): string => stickOf(dir, builds, { key, at: daysAgo(1) })
  /** A stick of `builds` whose folder `edit` changes before it is signed again (sha256, by ed). */
  const resigned = (builds: BuildFiles[], edit: (xobDir: string) => void, algo: 'sha256' | 'sha1' = 'sha256'): string => {
    const s = stickOf(dir, builds)
    edit(xob(s))
    signStick(xob(s), { key: keys.ed, algo })
    return s
  }
  /** A stick holding 45 signed (sha256, ed) with manifest.sha1 beside it as `sha1` makes it. */
  const withSha1 = (sha1: (s: string) => void): string => {
    const s = signed()
    sha1(s)
    return s
  }

  const cases: Array<[string, () => string | Promise<string>, ErrorCode, RegExp, { keyring?: string, args?: string[] }?]> = [
    // trust never drops by itself
    ['mistyped keyring path, unsigned stick', () => stickOf(dir, [b45]), 'E_KEYRING',
      /the keyring folder .*\/keyz \(keyring = .*\) does not exist: fix the keyring setting/, { keyring: join(dir, 'keyz') }],
    ['mistyped keyring path, signed stick', () => signed(), 'E_KEYRING', /does not exist/, { keyring: join(dir, 'keyz') }],
    ['configured keyring folder is empty', () => stickOf(dir, [b45]), 'E_KEYRING', /ring-empty holds no NOC key\. The NOC must sign/,
      { keyring: ring('empty', {}) }],
    ['the only key has expired: unsigned stick', () => stickOf(dir, [b45]), 'E_KEYRING',
      new RegExp(`no key in .*ring-expired counts: ${'[0-9A-F]{40}'} \\(Old NOC <old@example\\.invalid>\\) in .*old\\.asc: expired on 2020-01-02.*The NOC must sign sticks with a current key`),
      { keyring: ring('expired', { 'old.asc': keys.expired.armored }) }],
    ['the only key is revoked: stick signed by it', () => stickOf(dir, [b45], { key: keys.revoked }), 'E_KEYRING',
      /no key in .*ring-revoked counts: .*\(Revoked NOC <rev@example\.invalid>\) .*: revoked/, { keyring: ring('revoked', { 'rev.gpg': keys.revoked.binary }) }],
    ['an unreadable key file', () => signed(), 'E_KEYRING', /broken\.gpg is not a readable OpenPGP key file/,
      { keyring: ring('broken', { 'noc.asc': keys.ed.armored, 'broken.gpg': 'junk' }) }],
    // the keyring means what the admin thinks it means
    ['a secret key file in the keyring folder', () => signed(), 'E_KEYRING', /secret\.asc holds the SECRET key .*public keys only/,
      { keyring: ring('secret', { 'noc.asc': keys.ed.armored, 'secret.asc': secret.secretArmored }) }],
    ['a revocation in another file of the keyring', () => signed([b45], rotated.key), 'E_SIGNATURE_BAD',
      /the signing key [0-9A-F]{40} \(Stolen NOC <stolen@example\.invalid>, in .*stolen\.asc, .*zz-revoked\.gpg\) does not count: revoked/,
      { keyring: ring('rotated', { 'noc.asc': keys.ed.armored, 'stolen.asc': rotated.fresh, 'zz-revoked.gpg': rotated.key.binary }) }],
    // signatures and manifests are unambiguous
    ['two good signatures in one .sig', () => {
      const s = signed()
      const m = readFileSync(xob(s, 'manifest.sha256'))
      writeFileSync(xob(s, 'manifest.sha256.sig'), Buffer.concat([keys.ed.sign(m), keys.rsa.sign(m)]))
      return s
    }, 'E_SIGNATURE_BAD', /manifest\.sha256\.sig holds 2 signatures; a stick's signature file must hold exactly one/],
    ['a good signature and one over other bytes', () => {
      const s = signed()
      const m = readFileSync(xob(s, 'manifest.sha256'))
      writeFileSync(xob(s, 'manifest.sha256.sig'), Buffer.concat([keys.ed.sign(m), keys.ed.sign(Buffer.from('other'))]))
      return s
    }, 'E_SIGNATURE_BAD', /holds 2 signatures/],
    ['manifest.sha1 signed by an unknown key beside a good manifest.sha256', () => withSha1((s) => {
      signStick(xob(s), { algo: 'sha1', key: keys.other })
    }), 'E_SIGNATURE_BAD', /manifest\.sha1\.sig: no valid signature by a trusted key/],
    ['unsigned manifest.sha1 that disagrees about a file', () => withSha1((s) => {
      writeFileSync(xob(s, 'manifest.sha1'), manifestOf(xob(s), 'sha1').replace(/^[0-9a-f]{40}(  os45\.contents)$/m, `${'0'.repeat(40)}$1`))
    }), 'E_MANIFEST_MISMATCH', /os45\.contents: sha1 is [0-9a-f]{40}, but .*manifest\.sha1 says 0{40} \(the stick's manifests disagree/],
    ['malformed manifest.sha1 beside a signed manifest.sha256', () => withSha1((s) => {
      writeFileSync(xob(s, 'manifest.sha1'), 'not a manifest\n')
    }), 'E_MANIFEST', /manifest\.sha1 line 1: not a sha1sum line/],
    ['only signed manifest is sha1 (enforcing)', () => stickOf(dir, [b45], { key: keys.ed, algo: 'sha1', at: daysAgo(1) }), 'E_MANIFEST',
      /the only signed manifest on the stick is .*manifest\.sha1; SHA-1 is broken for collisions.*allow-sha1 = yes/],
    ['signed sha1 with an unsigned sha256 beside it', () => {
      const s = resigned([b45], () => {}, 'sha1')
      signStick(xob(s), { algo: 'sha256' })
      return s
    }, 'E_MANIFEST', /the only signed manifest on the stick is .*manifest\.sha1/],
    ['.name with two lines', () => resigned([b45], (d) => { writeFileSync(join(d, 'os45.name'), '45\n46\n') }), 'E_BUILD_NAME',
      /os45\.name holds 2 lines; a \.name file holds exactly one line/],
    ['.name with a forged DONE line', () => resigned([b45], (d) => { writeFileSync(join(d, 'os45.name'), '45\nDONE: all good\n') }), 'E_BUILD_NAME',
      /holds 2 lines/],
    ['empty .name', () => resigned([b45], (d) => { writeFileSync(join(d, 'os45.name'), '') }), 'E_BUILD_NAME', /build name "" is not allowed/],
    // one stick cannot harm another build
    ['build NAME differing only in case from a published one', async () => signed([await sampleBuild(dir, 'ALPHA', 'upper')]), 'E_BUILD_NAME',
      /build name ALPHA differs only in letter case from the published build Alpha/],
    ['two builds on the stick differing only in case', async () => signed([await sampleBuild(dir, 'beta'), await sampleBuild(dir, 'BETA', 'x')]),
      'E_BUILD_NAME', /build names (beta and BETA|BETA and beta) on the stick differ only in letter case/],
    ['build 46 in the files of the published 44', async () => signed([renamed(dir, await sampleBuild(dir, '46'), 'os44')]), 'E_BUILD_NAME',
      /build 46 on the stick would replace the files of build 44 in .*xobuilds-packed \(os44-tree\.tar\.bz2/],
    ['replay: an older 44 under other file names', () => stickOf(dir, [renamed(dir, b44v2, 'os44b')], { key: keys.ed, at: daysAgo(10) }),
      'E_DOWNGRADE', /build 44 on the stick was signed .* but the published 44 was signed/],
    ['all or nothing: a hostile build beside a good one', async () => {
      const evil = await sampleBuild(dir, '46', '', [...sampleEntries(),
        { name: 'etc/../../escape', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: new Date(), content: 'x\n' }])
      return signed([await sampleBuild(dir, '47', 'good'), evil])
    }, 'E_ARCHIVE_UNSAFE', /\.\..*nothing from this stick was published/],
  ]
  for (const [name, make, code, message, opts] of cases) {
    await t.test(name, async (t) => {
      const stick = await make()
      const stickBefore = treeHash(stick)
      const before = await storeSnapshot(config)
      const r = xsRsync(config, ['ingest', '--keyring', opts?.keyring ?? keyring, ...(opts?.args ?? []), stick])
      t.equal(r.status, ERROR_TABLE[code].exit, `exit ${ERROR_TABLE[code].exit} (${code})\n${r.stderr}`)
      const failed = r.stderr.split('\n').filter((l) => FAILED_RE.test(l))
      t.equal(failed.length, 1, 'exactly one FAILED line')
      t.match(failed[0], message)
      t.notMatch(r.stderr, /DONE:/, 'no success line')
      t.same(await storeSnapshot(config), before, 'published builds, rsync config and xobuilds-packed unchanged')
      t.same(stagingLeft(config), [], 'ROOT/tmp is empty')
      t.equal(treeHash(stick), stickBefore, 'the stick is unchanged')
    })
  }

  await t.test('laptops still get exactly 44 and Alpha', async (t) => {
    const served = await startServe({ config })
    t.teardown(served.stop)
    t.same(listModules(served.port), ['build-44', 'build-Alpha'])
    const pull = pullBuild(served.port, 'build-44', join(dir, 'laptop'), join(dir, 'laptop.state'))
    t.equal(pull.status, 0, pull.stderr)
    t.equal(readFileSync(join(dir, 'laptop', 'root', 'etc', 'hostname'), 'utf8'), 'xo-laptop\n')
  })
})

t.test('what the rules accept, and what they say', async (t) => {
  const dir = t.testdir({})
  const keyring = writeKeyring(join(dir, 'keys'), keys)
  const config: XsConfig = testConfig(dir, keyring)
  const run = (stick: string, args: string[] = [], ring = keyring): ReturnType<typeof xsRsync> =>
    xsRsync(config, ['ingest', '--keyring', ring, ...args, stick])
  const done = (stderr: string): string[] => stderr.split('\n').filter((l) => /^xs-rsync: DONE: /.test(l))

  await t.test('a signed stick: the DONE line and the status name the key and its user ID', async (t) => {
    const r = run(stickOf(dir, [await sampleBuild(dir, '50')], { key: keys.ed }))
    t.equal(r.status, 0, r.stderr)
    t.equal(done(r.stderr).length, 1)
    t.match(done(r.stderr)[0], new RegExp(`published 50; the stick was signed by NOC key ${keys.ed.fingerprint} \\(NOC Ed <noc-ed@example\\.invalid>\\)$`))
    const st = xsRsync(config, ['status', '--json'])
    t.match(JSON.parse(st.stdout), { last: { ok: true, signer: `signed by NOC key ${keys.ed.fingerprint} (NOC Ed <noc-ed@example.invalid>)`,
      signedBy: { fingerprint: keys.ed.fingerprint, userID: 'NOC Ed <noc-ed@example.invalid>' } } })
    t.match(xsRsync(config, ['status']).stdout, /the stick was signed by NOC key/)
  })

  await t.test('an unsigned stick on an explicitly permissive server: DONE says unsigned', async (t) => {
    const r = run(stickOf(dir, [await sampleBuild(dir, '51')]), ['--security', 'permissive'])
    t.equal(r.status, 0, r.stderr)
    t.match(r.stderr, /Security is permissive \(as configured \(security = permissive\)\)/)
    t.match(done(r.stderr)[0], /published 51; the stick was unsigned$/)
    t.match(JSON.parse(xsRsync(config, ['status', '--json']).stdout), { last: { signer: 'unsigned', signedBy: null } })
  })

  await t.test('a stray README in the keyring folder is a warning, not a refusal', async (t) => {
    writeFileSync(join(keyring, 'README'), 'these are the keys of our NOC\n')
    const r = run(stickOf(dir, [await sampleBuild(dir, '52')], { key: keys.ed }))
    t.equal(r.status, 0, r.stderr)
    t.match(r.stderr, /warning: Ignoring .*keys\/README in the keyring folder: not a key file \(only \*\.asc, \*\.gpg and \*\.pgp files are read\)/)
  })

  await t.test('only signed manifest sha1: accepted with --allow-sha1, with a warning', async (t) => {
    const s = stickOf(dir, [await sampleBuild(dir, '53')], { key: keys.ed, algo: 'sha1' })
    const r = run(s, ['--allow-sha1'])
    t.equal(r.status, 0, r.stderr)
    t.match(r.stderr, /warning: The stick is trusted through .*manifest\.sha1 \(SHA-1, broken for collisions\) because allow-sha1 is set/)
  })

  await t.test('both manifests signed and agreeing (as prepare-stick writes them): accepted', async (t) => {
    const s = stickOf(dir, [await sampleBuild(dir, '54')], { key: keys.ed })
    signStick(xob(s), { algo: 'sha1', key: keys.rsa })
    const r = run(s)
    t.equal(r.status, 0, r.stderr)
    t.match(r.stderr, /manifest\.sha256\.sig is valid/)
    t.match(r.stderr, /manifest\.sha1\.sig is valid/)
  })

  await t.test('names with control characters are shown escaped: no forged or erased DONE line', async (t) => {
    const s = stickOf(dir, [await sampleBuild(dir, '55')], { key: keys.ed })
    // unlisted files are named in the log ("Ignoring ..."): their names are the stick's words
    writeFileSync(xob(s, 'x\rxs-rsync: DONE: builds now available to laptops: evil'), '')
    writeFileSync(xob(s, 'y\u001b[1A\u001b[2K'), '')
    writeFileSync(xob(s, 'z\u009b1A'), '')
    const r = run(s)
    t.equal(r.status, 0, r.stderr)
    t.equal(done(r.stderr).length, 1, 'one DONE line, the real one')
    t.match(done(r.stderr)[0], /published 55/)
    t.notMatch(r.stderr, /[\r\u001b\u009b]/, 'no raw carriage return or escape reaches the terminal')
    t.match(r.stderr, /Ignoring .*x\\u000dxs-rsync: DONE: builds now available to laptops: evil/)
    t.match(r.stderr, /Ignoring .*y\\u001b\[1A\\u001b\[2K/)
  })
})
