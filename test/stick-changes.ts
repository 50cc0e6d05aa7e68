// A stick whose bytes change between two reads (issue 5). Already covered
// elsewhere: pulled out mid-copy (test/ingest-loop-pulled.ts: loop device
// loses its medium; test/stick-removed.ts: fusefat killed), and a file
// replaced, grown, shrunk or removed while read (packages/agent/test/
// copy-verified.ts). Here, through a whole ingest with a signed stick:
// - the tarball rewritten in place (same size, other bytes) during the copy;
// - the manifest and the tarball swapped for others after the signature was
//   checked (the hostile stick answers the second read differently).
// Each: refused, nothing published, the previous build still served,
// no staging, the status records why. And the watcher survives an ingest
// that fails this way and ingests the next stick.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { closeSync, openSync, readdirSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Level } from '@xs-rsync/core'
import { ingest, readStatus, watch } from '@xs-rsync/agent'
import { listBuilds, publishLayout } from '@xs-rsync/publisher'
import { makeKey, type TestKey } from '../packages/agent/test/lib/gpg.js'
import { logSink, sampleBuild, storeSnapshot, testConfig } from '../packages/agent/test/lib/ingest-fixture.js'
import { makeStick, manifestOf } from '../packages/agent/test/lib/stick.js'
import type { BuildFiles } from '../packages/agent/test/lib/stick.js'
import { sampleEntries } from '../packages/xs-rsync/src/demo/sample-build.js'

let key: TestKey
t.before(() => { key = makeKey({ algo: 'ed25519', expire: '1y', at: new Date(Date.now() - 86400_000) }) })
t.teardown(() => key.dispose())

const bigBuild = (dir: string, name: string, variant: string): Promise<BuildFiles> =>
  sampleBuild(dir, name, '', [...sampleEntries(), {
    name: 'usr/blob', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: new Date('2026-02-01T00:00:00Z'),
    content: randomBytes(3 * 1024 * 1024).toString('base64') + variant,
  }])

let n = 0
const signedStick = (dir: string, builds: BuildFiles[]): string => makeStick(join(dir, `stick-${n++}`), builds, { key })
const tarballOf = (stick: string): string => {
  const d = join(stick, 'xs-xobuilds')
  return join(d, readdirSync(d).find((f) => /-tree\.tar\.bz2$/.test(f)) ?? '')
}

/** Overwrite the first `len` bytes of `file` in place (same inode, same size). */
const scribble = (file: string, len = 4096): void => {
  const fd = openSync(file, 'r+')
  writeSync(fd, randomBytes(len), 0, len, 0)
  closeSync(fd)
}

t.test('a stick whose bytes change between two reads is refused; nothing changes', async (t) => {
  const dir = t.testdir({ keys: {} })
  writeFileSync(join(dir, 'keys', 'noc.asc'), key.armored)
  const config = testConfig(dir, join(dir, 'keys'))
  const layout = publishLayout(config.root)
  t.same((await ingest({ config, source: signedStick(dir, [await bigBuild(dir, '44', 'one')]) })).published, ['44'])
  const before = await storeSnapshot(config)
  const newer = await bigBuild(dir, '44', 'two')

  await t.test('the tarball rewritten in place while it is copied', async (t) => {
    const stick = signedStick(dir, [newer])
    let scribbled = false
    const { log, text } = logSink()
    await t.rejects(ingest({
      config, source: stick, log,
      onProgress: (ev) => {
        if (ev.step === 'copy' && !scribbled && ev.bytesDone > 0) { scribbled = true; scribble(tarballOf(stick)) }
      },
    }), { name: 'XsError', code: 'E_STICK_CHANGED', message: /os44-tree\.tar\.bz2 changed while it was read/ })
    t.ok(scribbled, 'rewritten during the copy')
    t.match(text(), /\[7\/8\] Copying/)
    // the tarball's unpack starts as it is copied (into staging), and fails with the copy
    t.notMatch(text(), /: unpacked \/|Published build/, 'the unpack never finished, nothing was published')
    t.same(await storeSnapshot(config), before, 'published builds, rsync config and xobuilds-packed unchanged')
    t.same(readdirSync(layout.tmp), [], 'no staging')
    t.match((await readStatus(layout.state)).last, { ok: false, code: 'E_STICK_CHANGED', line: /^FAILED: .*changed while it was read/ })
  })

  await t.test('manifest and tarball swapped after the signature was checked', async (t) => {
    const stick = signedStick(dir, [newer])
    const buildsDir = join(stick, 'xs-xobuilds')
    // the hostile stick: after its signed manifest was read, it offers another
    // tarball and a manifest listing it (the signature no longer matches it)
    const evil = await bigBuild(dir, '44', 'evil')
    let swapped = false
    const { lines, text } = logSink()
    const log = (level: Level, msg: string): void => {
      lines.push(`${level} ${msg}`)
      if (!swapped && /^\[4\/8\] Checking the files/.test(msg)) {
        swapped = true
        writeFileSync(join(buildsDir, 'evil.part'), readFileSync(evil.tarball))
        renameSync(join(buildsDir, 'evil.part'), tarballOf(stick))
        writeFileSync(join(buildsDir, 'manifest.sha256'), manifestOf(buildsDir, 'sha256'))
      }
    }
    const r = ingest({ config, source: stick, log })
    await t.rejects(r, { name: 'XsError', code: 'E_MANIFEST_MISMATCH', message: /os44-tree\.tar\.bz2: sha256 is [0-9a-f]{64}, the manifest says/ })
    t.ok(swapped)
    t.match(text(), /Signature .* is valid/, 'the signature was valid for the manifest as first read')
    t.same(await storeSnapshot(config), before, 'nothing changed')
    t.same(readdirSync(layout.tmp), [], 'no staging')
    t.match((await readStatus(layout.state)).last, { ok: false, code: 'E_MANIFEST_MISMATCH' })
  })

  await t.test('the watcher survives an ingest that fails this way and takes the next stick', async (t) => {
    const bad = signedStick(dir, [newer])
    const good = signedStick(dir, [await sampleBuild(dir, '45', 'good')])
    const devices: string[] = []
    const { log, text } = logSink()
    const ac = new AbortController()
    let scribbled = false
    const done = watch({
      log, signal: ac.signal, hotplug: null, pollMs: 20,
      lister: { name: 'test sticks', list: async () => [...devices] },
      hasFilesystem: async () => true,
      ingest: async (device, signal) => {
        await ingest({
          config, source: device, log, signal,
          onProgress: (ev) => {
            if (device === bad && ev.step === 'copy' && !scribbled && ev.bytesDone > 0) { scribbled = true; scribble(tarballOf(bad)) }
          },
        })
      },
    })
    const until = async (re: RegExp): Promise<void> => {
      for (let i = 0; i < 3000 && !re.test(text()); i++) await sleep(20)
    }
    await until(/Watching for USB sticks/)
    devices.push(bad)
    await until(/err .*FAILED: .*changed while it was read/)
    t.match(text(), new RegExp(`err ${bad}: FAILED: stick changed or was removed while reading`), 'the failure is logged by the watcher')
    devices.push(good)
    await until(/DONE: builds now available to laptops: 44, 45/)
    ac.abort()
    await done
    t.match(text(), /DONE: builds now available to laptops: 44, 45 .*published 45/, 'the next stick was ingested')
    t.match(text(), /Stopped watching for USB sticks/)
    const recs = await listBuilds(config)
    t.same(recs.map((b) => b.name), ['44', '45'])
    t.equal(recs[0]?.md5, (JSON.parse(before.builds) as { md5: string }[])[0]?.md5, '44 is still the first version')
    t.match((await readStatus(layout.state)).last, { ok: true, published: ['45'] })
    t.same(readdirSync(layout.tmp), [], 'no staging')
  })
})
