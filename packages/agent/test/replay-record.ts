import t from 'tap'
import { checkReplay, ingestRecordOf, type IncomingBuild, type IngestRecord, type PublishedBuild } from '../src/replay-record.js'

const H = (c: string): string => c.repeat(64)
const rec = (signedAt: string | null, tarballHash = H('a'), manifest: 'sha1' | 'sha256' = 'sha256'): IngestRecord =>
  ({ signedAt, signedBy: signedAt === null ? null : 'F'.repeat(40), manifest, tarballHash, source: 's', ingestedAt: '2026-01-01T00:00:00.000Z' })
const inc = (over: Partial<IncomingBuild> = {}): IncomingBuild =>
  ({ name: '44', md5: 'm1', algo: 'sha256', tarballHash: H('b'), signedAt: new Date('2026-06-01T00:00:00Z'), ...over })

t.test('checkReplay table', async (t) => {
  const table: Array<[string, IncomingBuild, PublishedBuild | undefined, boolean, string | RegExp]> = [
    ['nothing published', inc(), undefined, false, 'new'],
    ['same tarball hash and md5', inc({ tarballHash: H('a') }), { md5: 'm1', ingest: rec('2026-01-01T00:00:00Z') }, false, 'same'],
    ['same hash recorded but another tarball served now', inc({ tarballHash: H('a') }), { md5: 'other', ingest: rec('2026-01-01T00:00:00Z') }, false, 'replace'],
    ['same md5 but another sha256 (collision)', inc({ md5: 'm0' }), { md5: 'm0', ingest: rec('2026-01-01T00:00:00Z') }, false, 'replace'],
    ['same md5, published another way', inc({ md5: 'm0' }), { md5: 'm0' }, false, 'same'],
    ['same md5 but other manifest algo recorded', inc({ md5: 'm0', algo: 'sha1', tarballHash: 'c'.repeat(40) }), { md5: 'm0', ingest: rec('2026-01-01T00:00:00Z') }, false, 'same'],
    ['newer signature', inc(), { md5: 'm0', ingest: rec('2026-01-01T00:00:00Z') }, false, 'replace'],
    ['equal signature time, other tarball', inc({ signedAt: new Date('2026-01-01T00:00:00Z') }), { md5: 'm0', ingest: rec('2026-01-01T00:00:00Z') }, false, 'replace'],
    ['published without a record', inc(), { md5: 'm0' }, false, 'replace'],
    ['published unsigned (permissive)', inc({ signedAt: undefined }), { md5: 'm0', ingest: rec(null) }, false, 'replace'],
    ['older signature', inc({ signedAt: new Date('2025-01-01T00:00:00Z') }), { md5: 'm0', ingest: rec('2026-01-01T00:00:00Z') }, false, /on the stick was signed 2025-01-01.*published 44 was signed 2026-01-01/],
    ['unsigned over signed', inc({ signedAt: undefined }), { md5: 'm0', ingest: rec('2026-01-01T00:00:00Z') }, false, /is not signed/],
    ['older, allowed', inc({ signedAt: new Date('2025-01-01T00:00:00Z') }), { md5: 'm0', ingest: rec('2026-01-01T00:00:00Z') }, true, 'replace!'],
  ]
  for (const [name, i, p, allow, want] of table) {
    if (want instanceof RegExp) {
      t.throws(() => checkReplay(i, p, allow), { name: 'XsError', code: 'E_DOWNGRADE', message: want }, name)
      continue
    }
    const d = checkReplay(i, p, allow)
    t.equal(d.action + (d.action === 'replace' && d.downgrade ? '!' : ''), want, name)
  }
})

t.test('ingestRecordOf accepts only a well-formed record', async (t) => {
  t.same(ingestRecordOf({ ingest: rec('2026-01-01T00:00:00Z') }), rec('2026-01-01T00:00:00Z'))
  t.same(ingestRecordOf({ ingest: rec(null) }), rec(null))
  t.equal(ingestRecordOf(undefined), undefined)
  t.equal(ingestRecordOf({}), undefined)
  t.equal(ingestRecordOf({ ingest: 'x' }), undefined)
  t.equal(ingestRecordOf({ ingest: { ...rec('not a date') } }), undefined)
  t.equal(ingestRecordOf({ ingest: { ...rec(null), manifest: 'md5' } }), undefined)
})
