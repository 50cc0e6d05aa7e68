import t from 'tap'
import { appendFileSync, readdirSync, readFileSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { ingest, readStatus } from '@xs-rsync/agent'
import type { XsConfig } from '@xs-rsync/core'
import { listBuilds } from '@xs-rsync/publisher'
import { sampleEntries } from '../packages/xs-rsync/src/demo/sample-build.js'
import {
  daysAgo, disposeKeys, logSink, makeKeys, sampleBuild, stagingLeft, stickOf, storeSnapshot, testConfig, writeKeyring, type Keys,
} from '../packages/agent/test/lib/ingest-fixture.js'
import { signStick, type BuildFiles } from '../packages/agent/test/lib/stick.js'
import { listModules, pullBuild } from './lib/pull-build.js'
import { startServe } from './lib/start-serve.js'

let keys: Keys
t.before(() => { keys = makeKeys() })
t.teardown(() => disposeKeys(keys))

const xob = (stick: string, f = ''): string => join(stick, 'xs-xobuilds', f)

/**
 * Each case: a store already serving build 44 (signed 5 days ago); a hostile
 * or broken stick is refused with its code; afterwards the published builds,
 * the rsync config and xobuilds-packed are exactly as before, no staging is
 * left, the status says why, and laptops still get 44.
 */
t.test('refused sticks change nothing', async (t) => {
  const dir = t.testdir({})
  const config: XsConfig = testConfig(dir, writeKeyring(join(dir, 'keys'), keys))
  const b44 = await sampleBuild(dir, '44')
  const b45 = await sampleBuild(dir, '45', 'new')
  const b44v2 = await sampleBuild(dir, '44', 'v2')
  await ingest({ config, source: stickOf(dir, [b44], { key: keys.rsa, at: daysAgo(5) }) })
  const signed = (builds: BuildFiles[] = [b45]): string => stickOf(dir, builds, { key: keys.ed, at: daysAgo(1) })

  const cases: Array<[string, () => Promise<string> | string, RegExp, RegExp, Partial<XsConfig>?]> = [
    ['bad hash (tarball altered after signing)', () => {
      const s = signed()
      appendFileSync(xob(s, basename(b45.tarball)), 'x')
      return s
    }, /E_MANIFEST_MISMATCH/, /sha256 is [0-9a-f]+, the manifest says/],
    ['listed file missing', () => {
      const s = signed()
      unlinkSync(xob(s, basename(b45.contentsFile)))
      return s
    }, /E_MANIFEST_MISMATCH/, /os45\.contents is listed in the manifest but missing/],
    ['symlink on the stick (even to identical bytes)', () => {
      const s = stickOf(dir, [b45])
      const f = xob(s, basename(b45.contentsFile))
      renameSync(f, join(s, 'real-contents'))
      symlinkSync(join(s, 'real-contents'), f)
      signStick(xob(s), { key: keys.ed })
      return s
    }, /E_MANIFEST_MISMATCH/, /os45\.contents is a symbolic link/],
    ['unsigned while enforcing', () => stickOf(dir, [b45]), /E_SIGNATURE_MISSING/, /manifest\.sha256 has no signature/],
    ['bad signature (manifest changed after signing)', () => {
      const s = signed()
      appendFileSync(xob(s, 'manifest.sha256'), `${'0'.repeat(64)}  extra.txt\n`)
      writeFileSync(xob(s, 'extra.txt'), 'x')
      return s
    }, /E_SIGNATURE_BAD/, /no valid signature by a trusted key/],
    ['unknown key', () => stickOf(dir, [b45], { key: keys.other }), /E_SIGNATURE_BAD/, /unknown key|not made by a trusted key|Could not find/i],
    ['expired key', () => stickOf(dir, [b45], { key: keys.expired, at: new Date('2020-01-01T06:00:00Z') }), /E_SIGNATURE_BAD/, /does not count: expired/],
    ['revoked key', () => stickOf(dir, [b45], { key: keys.revoked }), /E_SIGNATURE_BAD/, /does not count: revoked/],
    ['downgrade (signed before the published 44)', () => stickOf(dir, [b44v2], { key: keys.ed, at: daysAgo(10) }), /E_DOWNGRADE/,
      /build 44 on the stick was signed .* but the published 44 was signed/],
    ['no room (huge reserve)', () => signed(), /E_NO_SPACE/, /needs \d+ MB \(copy .* reserve \d+ MB, the "reserve" setting\) but has \d+ MB free/, { reserveBytes: 2 ** 60 }],
    ['bad build name', () => {
      const s = stickOf(dir, [b45])
      writeFileSync(xob(s, basename(b45.nameFile)), '45 ]\n[evil]\n')
      signStick(xob(s), { key: keys.ed })
      return s
    }, /E_BUILD_NAME/, /os45\.name: build name "45 \]" is not allowed/],
    ['incomplete build (.name not listed)', () => {
      const s = stickOf(dir, [b45])
      unlinkSync(xob(s, basename(b45.nameFile)))
      signStick(xob(s), { key: keys.ed })
      return s
    }, /E_BUILD_INCOMPLETE/, /incomplete: missing name/],
    ['manifest entry with a path', () => {
      const s = signed()
      const m = readFileSync(xob(s, 'manifest.sha256'), 'utf8').replace('  os45.name', '  ../os45.name')
      writeFileSync(xob(s, 'manifest.sha256'), m)
      writeFileSync(xob(s, 'manifest.sha256.sig'), keys.ed.sign(Buffer.from(m)))
      return s
    }, /E_MANIFEST/, /file name contains "\/"/],
    ['hostile archive behind a valid signature: unpack refuses, older files restored', async () => {
      const evil = await sampleBuild(dir, '44', '', [...sampleEntries(),
        { name: '../../escape', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: new Date(), content: 'x\n' }])
      return stickOf(dir, [evil], { key: keys.ed, at: daysAgo(1) })
    }, /E_ARCHIVE_UNSAFE/, /\.\./],
  ]

  for (const [name, make, code, message, override] of cases) {
    await t.test(name, async (t) => {
      const cfg = { ...config, ...override }
      const before = await storeSnapshot(cfg)
      const { log, text } = logSink()
      const err = await ingest({ config: cfg, source: await make(), log }).then(() => undefined, (er: unknown) => er as Error & { code: string })
      t.ok(err, 'refused')
      t.match(err?.code, code)
      t.match(err?.message, message)
      t.same(await storeSnapshot(cfg), before, 'published builds, rsync config and xobuilds-packed unchanged')
      t.same(stagingLeft(cfg), [], 'no staging left')
      t.notMatch(text(), /DONE:/, 'no success line')
      t.match((await readStatus(join(cfg.root, 'state'))).last, { ok: false, code: err?.code })
    })
  }

  await t.test('stick pulled out / job stopped during the copy: E_STICK_CHANGED, nothing published', async (t) => {
    const before = await storeSnapshot(config)
    const ac = new AbortController()
    const onProgress = (ev: { step: string }): void => { if (ev.step === 'copy') ac.abort(new Error('interrupted by SIGTERM')) }
    await t.rejects(ingest({ config, source: signed(), signal: ac.signal, onProgress }),
      { code: 'E_STICK_CHANGED', message: /stopped before the end \(interrupted by SIGTERM\); nothing was published/ })
    t.same(await storeSnapshot(config), before)
    t.same(stagingLeft(config), [])
  })

  await t.test('--allow-downgrade accepts the older stick', async (t) => {
    const r = await ingest({ config, source: stickOf(dir, [b44v2], { key: keys.ed, at: daysAgo(10) }), allowDowngrade: true })
    t.same(r.published, ['44'])
  })

  await t.test('laptops still get 44', async (t) => {
    const served = await startServe({ config })
    t.teardown(async () => { await served.stop() })
    t.same(listModules(served.port).filter((m) => m.startsWith('build-')), ['build-44'])
    const pull = pullBuild(served.port, 'build-44', join(dir, 'laptop'), join(dir, 'laptop.state'))
    t.equal(pull.status, 0, pull.stderr)
    t.equal(readFileSync(join(dir, 'laptop', 'root', 'etc', 'hostname'), 'utf8'), 'xo-laptop\n')
  })

  await t.test('one hostile build among good ones: the stick is all or nothing, none is published', async (t) => {
    const evil = await sampleBuild(dir, '46', '', [...sampleEntries(),
      { name: 'etc/../../escape', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: new Date(), content: 'x\n' }])
    const good = await sampleBuild(dir, '47', 'good')
    const before = await storeSnapshot(config)
    const { log, text } = logSink()
    await t.rejects(ingest({ config, source: stickOf(dir, [good, evil], { key: keys.ed }), log }),
      { code: 'E_ARCHIVE_UNSAFE', message: /build 46 is refused, so nothing from this stick was published/ })
    t.notMatch(text(), /Published build/)
    t.same((await listBuilds(config)).map((b) => b.name), ['44'])
    t.same(await storeSnapshot(config), before, 'published builds, rsync config and xobuilds-packed unchanged')
    t.notMatch(readFileSync(config.rsyncdConf, 'utf8'), /build-4[67]/)
    t.notOk(readdirSync(join(config.root, 'xobuilds-packed')).some((f) => f.startsWith('os46')), 'its files are not left in xobuilds-packed')
    t.same(stagingLeft(config), [])
  })
})
