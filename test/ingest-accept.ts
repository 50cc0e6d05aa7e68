import t from 'tap'
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { ingest, readStatus } from '@xs-rsync/agent'
import { listBuilds, withStoreLock } from '@xs-rsync/publisher'
import {
  daysAgo, disposeKeys, logSink, makeKeys, sampleBuild, stagingLeft, stickOf, testConfig, writeKeyring, type Keys,
} from '../packages/agent/test/lib/ingest-fixture.js'
import { listModules, pullBuild } from './lib/pull-build.js'
import { startServe } from './lib/start-serve.js'
import { xsRsync } from './lib/xs-cli.js'

let keys: Keys
t.before(() => { keys = makeKeys() })
t.teardown(() => disposeKeys(keys))

t.test('sticks are verified, copied, published, recognised again, and replaced by newer ones', async (t) => {
  const dir = t.testdir({})
  const config = testConfig(dir, writeKeyring(join(dir, 'keys'), keys))
  const b44 = await sampleBuild(dir, '44')
  const b44v2 = await sampleBuild(dir, '44', 'v2')
  const b45 = await sampleBuild(dir, '45', 'other')
  const b46 = await sampleBuild(dir, '46', 'unsigned')

  // RSA, binary signature, sha256; an unlisted file rides along
  const s44 = stickOf(dir, [b44], { key: keys.rsa, armor: false, at: daysAgo(5) })
  writeFileSync(join(s44, 'xs-xobuilds', 'autorun.inf'), '[autorun]\nopen=evil.exe\n')

  await t.test('--check verifies and changes nothing', async (t) => {
    const { log, text } = logSink()
    const r = await ingest({ config, source: s44, check: true, log })
    t.same(r.published, ['44'], 'would publish 44')
    t.match(text(), new RegExp(`CHECKED: .* is valid \\(signed by NOC key ${keys.rsa.fingerprint} \\(NOC RSA <noc-rsa@example\\.invalid>\\)\\); would publish 44; nothing was changed`))
    t.notOk(existsSync(config.root), 'the store was not even created')
    t.notOk(existsSync(config.rsyncdConf))
  })

  await t.test('RSA + binary signature + sha256: published; unlisted file ignored', async (t) => {
    const { log, text } = logSink()
    const r = await ingest({ config, source: s44, log })
    t.same(r.published, ['44'])
    t.same(r.ignored, ['autorun.inf'])
    t.equal(r.signature?.fingerprint, keys.rsa.fingerprint)
    t.match(text(), /notice Ignoring .*autorun\.inf: not listed in the manifest, not copied/)
    t.match(text(), /\[1\/8\] Finding the builds[\s\S]*\[8\/8\] Publishing 44/, 'numbered steps')
    t.match(text(), /notice DONE: builds now available to laptops: 44 \(rsync:\/\/.*\/build-44\)/, 'one final line')
    t.notOk(readdirSync(join(config.root, 'xobuilds-packed')).includes('autorun.inf'), 'never copied')
    const [rec] = await listBuilds(config)
    t.match(rec, { name: '44', extra: { ingest: { signedBy: keys.rsa.fingerprint, manifest: 'sha256' } } })
    const signedAt = Date.parse((rec?.extra?.ingest as { signedAt: string }).signedAt)
    t.ok(Math.abs(signedAt - daysAgo(5).getTime()) < 120_000, 'signature time recorded')
    t.match(readFileSync(config.rsyncdConf, 'utf8'), /\[build-44\]/)
    t.same(stagingLeft(config), [], 'no staging left')
    t.match((await readStatus(join(config.root, 'state'))).last, { ok: true, published: ['44'] })
  })

  await t.test('the same stick again: recognised and skipped without copying', async (t) => {
    const before = await listBuilds(config)
    const { log, text } = logSink()
    const r = await ingest({ config, source: s44, log })
    t.same([r.published, r.skipped], [[], ['44']])
    t.match(text(), /Build 44 is already published \(same tarball\); skipped/)
    t.notMatch(text(), /Copying/)
    t.same(await listBuilds(config), before, 'record untouched')
  })

  await t.test('--check of an already-published stick still reads every file', async (t) => {
    const { log, text } = logSink()
    const r = await ingest({ config, source: s44, check: true, log })
    t.same([r.published, r.skipped], [[], ['44']])
    t.match(text(), /All \d+ listed files match the manifest/)
    // the same stick with its .contents altered after signing: the check must see it
    const altered = join(dir, 'altered-44')
    cpSync(s44, altered, { recursive: true })
    const contents = readdirSync(join(altered, 'xs-xobuilds')).find((f) => f.endsWith('.contents'))
    t.ok(contents)
    writeFileSync(join(altered, 'xs-xobuilds', contents ?? ''), 'tampered\n')
    await t.rejects(ingest({ config, source: altered, check: true }), { code: 'E_MANIFEST_MISMATCH', message: /\.contents/ })
  })

  await t.test('Ed25519 + armored signature + sha1 manifest (allow-sha1): a second build', async (t) => {
    const r = await ingest({ config: { ...config, allowSha1: true }, source: stickOf(dir, [b45], { key: keys.ed, armor: true, algo: 'sha1', at: daysAgo(4) }) })
    t.same(r.published, ['45'])
    t.same(r.available, ['44', '45'])
  })

  await t.test('a newer stick replaces the build of the same NAME', async (t) => {
    const old = (await listBuilds(config)).find((b) => b.name === '44')
    const r = await ingest({ config, source: stickOf(dir, [b44v2], { key: keys.ed, at: daysAgo(1) }) })
    t.same(r.published, ['44'])
    const now = (await listBuilds(config)).find((b) => b.name === '44')
    t.not(now?.md5, old?.md5, 'new tarball served')
    t.not(now?.tree, old?.tree)
    t.equal(readdirSync(join(config.root, 'xobuilds-packed')).filter((f) => f.startsWith('os44')).length, 4, 'old packed files replaced, not added to')
  })

  await t.test('permissive: an unsigned stick is accepted with a warning', async (t) => {
    const { log, text } = logSink()
    const r = await ingest({ config, source: stickOf(dir, [b46]), security: 'permissive', log })
    t.same(r.published, ['46'])
    t.equal(r.security, 'permissive')
    t.match(text(), /warning .*manifest\.sha256 is NOT signed; accepted only because security is permissive/)
    t.match((await listBuilds(config)).find((b) => b.name === '46'), { extra: { ingest: { signedAt: null, signedBy: null } } })
  })

  await t.test('a stick without xs-xobuilds: nothing to do, success', async (t) => {
    const empty = join(dir, 'empty-stick')
    mkdirSync(join(empty, 'photos'), { recursive: true })
    const { log, text } = logSink()
    const r = await ingest({ config, source: empty, log })
    t.ok(r.noBuilds)
    t.match(text(), /DONE: .* holds no xs-xobuilds folder/)
  })

  await t.test('laptops get every published build over rsync', async (t) => {
    const served = await startServe({ config })
    t.teardown(async () => { await served.stop() })
    t.same(listModules(served.port).filter((m) => m.startsWith('build-')).sort(), ['build-44', 'build-45', 'build-46'])
    const dest = join(dir, 'laptop')
    const pull = pullBuild(served.port, 'build-44', dest, join(dir, 'laptop.state'))
    t.equal(pull.status, 0, pull.stderr)
    t.equal(readFileSync(join(dest, 'root', 'etc', 'variant'), 'utf8'), 'v2\n', 'the newer 44 is what laptops get')
  })
})

t.test('a tarball is unpacked as it is copied, one at a time; a later one from its verified copy before anything is published', async (t) => {
  const dir = t.testdir({})
  const config = testConfig(dir, writeKeyring(join(dir, 'keys'), keys))
  const source = stickOf(dir, [await sampleBuild(dir, '70', 'seventy'), await sampleBuild(dir, '71', 'seventy-one')], { key: keys.ed })
  const { log, lines } = logSink()
  const r = await ingest({ config, source, log })
  t.same(r.published, ['70', '71'])
  const at = (re: RegExp): number => lines.findIndex((l) => re.test(l))
  const copying = at(/\[7\/8\] Copying and verifying/)
  const matched = at(/All \d+ listed files match the manifest/)
  t.ok(copying >= 0 && matched > copying, 'copy step, then all files matched')
  const early = lines.flatMap((l, i) => { const m = /Unpacking build (\S+) from .* as it is copied/.exec(l); return m === null ? [] : [{ name: m[1] ?? '', i }] })
  t.ok(early.length >= 1, 'a tarball was unpacked as it was copied')
  t.ok((early[0]?.i ?? -1) > copying && (early[0]?.i ?? Infinity) < matched, 'it started during the copy, before every file was verified')
  const unpackedLines = lines.filter((l) => /^info unpacked /.test(l))
  t.ok(unpackedLines.length === 2 && unpackedLines.every((l) => !l.includes(join(config.root, 'tmp'))), 'the "unpacked" lines name the stick\'s or the store\'s tarball, never ROOT/tmp')
  t.ok(unpackedLines.some((l) => l.startsWith(`info unpacked ${join(source, 'xs-xobuilds')}/`)), 'the tarball unpacked as it was copied is named as the file on the stick')
  // one at a time: a second one starts only after the first one is done
  for (let k = 1; k < early.length; k++) {
    const done = at(new RegExp(`^info unpacked .*/os${early[k - 1]?.name ?? ''}-tree`))
    t.ok(done >= 0 && done < (early[k]?.i ?? -1), `build ${early[k]?.name} started after build ${early[k - 1]?.name} was unpacked`)
  }
  // the others are unpacked from their verified copy after the copy, all before the first is published (all or nothing)
  const firstPublished = at(/Published build/)
  for (const name of ['70', '71'].filter((n) => !early.some((e) => e.name === n))) {
    const i = at(new RegExp(`Unpacking build ${name} from .*xs-xobuilds/os${name}-tree\\.tar\\.bz2 \\(its verified copy\\)`))
    t.ok(i > matched && i < firstPublished, `build ${name} unpacked after the copy, before anything was published`)
  }
  t.equal(lines.filter((l) => /Published build/.test(l)).length, 2)
  for (const [name, variant] of [['70', 'seventy'], ['71', 'seventy-one']] as const) {
    t.equal(readFileSync(join(config.root, 'pub', 'builds', name, 'root', 'etc', 'variant'), 'utf8'), `${variant}\n`, `build ${name} holds its own tree`)
  }
  t.same(stagingLeft(config), [], 'no staging left')
})

t.test('one ingest at a time: a second stick waits its turn and says so', async (t) => {
  const dir = t.testdir({})
  const config = testConfig(dir, writeKeyring(join(dir, 'keys'), keys))
  const source = stickOf(dir, [await sampleBuild(dir, '60')], { key: keys.ed })
  let release = (): void => {}
  let holding = (): void => {}
  const held = new Promise<void>((resolve) => { holding = resolve })
  const holder = withStoreLock(config, { wait: false }, () => new Promise<void>((resolve) => { release = resolve; holding() }))
  await held
  const { log, text } = logSink()
  const second = ingest({ config, source, log })
  for (let i = 0; i < 200 && !/waiting for it to finish/.test(text()); i++) await new Promise((r) => setTimeout(r, 50))
  t.match(text(), /notice Another stick is being processed; waiting for it to finish/)
  t.notMatch(text(), /Publishing/, 'nothing published while the other job holds the store')
  release()
  await holder
  t.same((await second).published, ['60'])
})

t.test('through the CLI: exit 0 and status; a refusal exits with its code and one FAILED line', async (t) => {
  const dir = t.testdir({})
  const config = testConfig(dir, writeKeyring(join(dir, 'keys'), keys))
  const good = stickOf(dir, [await sampleBuild(dir, '50')], { key: keys.ed })
  const ok = xsRsync(config, ['ingest', '--keyring', config.keyring, good])
  t.equal(ok.status, 0, ok.stderr)
  t.match(ok.stderr, /DONE: builds now available to laptops: 50/)
  const st = xsRsync(config, ['status', '--json'])
  t.equal(st.status, 0, st.stderr)
  const status = JSON.parse(st.stdout) as { running: unknown[], last: { ok: boolean, published: string[] }, builds: { name: string }[] }
  t.match(status, { running: [], last: { ok: true, published: ['50'] } })
  t.same(status.builds.map((b) => b.name), ['50'])
  const text = xsRsync(config, ['status'])
  t.match(text.stdout, /No ingest in progress\.\nLast ingest: succeeded at .*\n  published: 50\n/)

  const unsigned = stickOf(dir, [await sampleBuild(dir, '51')])
  const bad = xsRsync(config, ['ingest', '--keyring', config.keyring, unsigned])
  t.equal(bad.status, 22, 'E_SIGNATURE_MISSING exit status')
  t.equal(bad.stderr.match(/FAILED: /g)?.length, 1, 'one FAILED line')
  t.match(bad.stderr, /FAILED: stick is not signed: .*manifest\.sha256 has no signature/)
  const after = JSON.parse(xsRsync(config, ['status', '--json']).stdout) as { last: { ok: boolean, code: string } }
  t.match(after.last, { ok: false, code: 'E_SIGNATURE_MISSING' })
})
