import t from 'tap'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { markTrusted, trustedBefore, trustMarkerFile } from '../src/trusted-before.js'

const record = (name: string, signedBy: string | null): string => JSON.stringify({
  name, tree: `${name}@1`, tarball: `os${name}-tree.tar.bz2`, md5: 'a'.repeat(32), size: 1, mtimeMs: 1, ino: 1, md5FileHash: 'b', contentsHash: 'c',
  entries: 1, bytes: 1, publishedAt: '2026-01-01T00:00:00.000Z', backend: 'fake-super',
  extra: { ingest: { signedAt: signedBy === null ? null : '2026-01-01T00:00:00.000Z', signedBy, manifest: 'sha256', tarballHash: 'd', source: 's', ingestedAt: '2026-01-01T00:00:00.000Z' } },
})

t.test('trustedBefore: the marker, or a build published from a signed stick', async (t) => {
  const none = t.testdir({})
  t.notOk(await trustedBefore({ root: join(none, 'no-store') }), 'no store at all: never trusted')
  const unsigned = t.testdir({ state: { builds: { '44.json': record('44', null) } } })
  t.notOk(await trustedBefore({ root: unsigned }), 'only unsigned (permissive) builds')
  const signed = t.testdir({ state: { builds: { '44.json': record('44', 'F'.repeat(40)) } } })
  t.ok(await trustedBefore({ root: signed }), 'a build signed by a NOC key')
  const marked = t.testdir({ state: { 'keys-trusted': '{}\n' } })
  t.ok(await trustedBefore({ root: marked }), 'the marker')
})

t.test('markTrusted writes the marker once, only into an existing ROOT/state', async (t) => {
  const dir = t.testdir({})
  await markTrusted({ root: dir }, ['A'.repeat(40)])
  t.notOk(existsSync(trustMarkerFile(dir)), 'no state folder: nothing written (keys add before setup)')
  mkdirSync(join(dir, 'state'))
  await markTrusted({ root: dir }, [])
  t.notOk(existsSync(trustMarkerFile(dir)), 'no usable key: nothing written')
  await markTrusted({ root: dir }, ['A'.repeat(40)])
  t.match(JSON.parse(readFileSync(trustMarkerFile(dir), 'utf8')), { keys: ['A'.repeat(40)] })
  writeFileSync(trustMarkerFile(dir), 'kept\n')
  await markTrusted({ root: dir }, ['B'.repeat(40)])
  t.equal(readFileSync(trustMarkerFile(dir), 'utf8'), 'kept\n', 'written once')
  t.ok(await trustedBefore({ root: dir }))
})
