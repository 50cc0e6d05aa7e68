import t from 'tap'
import { isMetaRecord, metaRecord, nameRecord, parseMetaRecord, parseNameRecord, recordKey } from '../src/ownership-records.js'
import type { InodeMeta } from '../src/inode-meta.js'

const meta = (m: Partial<InodeMeta>): InodeMeta => ({ mode: 0o100644, uid: 0, gid: 0, devmajor: 0, devminor: 0, mtime: 1600000000, size: 0, ...m })

t.test('meta records round-trip', async (t) => {
  const cases: [string, InodeMeta][] = [
    ['plain file', meta({ size: 12345 })],
    ['setuid, owner ids at the limit', meta({ mode: 0o104755, uid: 2 ** 32 - 2, gid: 7 })],
    ['char device', meta({ mode: 0o20666, devmajor: 1, devminor: 3 })],
    ['a negative mtime', meta({ mtime: -86400 })],
    ['nanoseconds', meta({ mtime: 1796607276, mtimeNsec: 123456789 })],
    ['one nanosecond after a negative second (-1.999999999)', meta({ mtime: -2, mtimeNsec: 1 })],
    ['capability', meta({ capability: Buffer.from([1, 0, 0, 2, 0x20, 0, 0, 0]) })],
  ]
  for (const [what, m] of cases) {
    const rec = metaRecord(12345678901234567890n, 42, m)
    t.ok(rec.endsWith('\0'), `${what}: NUL-terminated`)
    const body = rec.slice(0, -1)
    t.ok(isMetaRecord(body), what)
    t.equal(recordKey(body), '12345678901234567890', `${what}: key`)
    t.same(parseMetaRecord(body), m, what)
  }
})

t.test('name records round-trip any name bytes but NUL', async (t) => {
  const cases: [string, string][] = [
    ['the root', ''],
    ['tab and newline', 'a\tb/c\nd'],
    ['latin1 bytes', 'names/latin\xff\xfe'],
  ]
  for (const [what, path] of cases) {
    const body = nameRecord(7n, what === 'tab and newline', 0x803n, 9n, 2n, path).slice(0, -1)
    t.notOk(isMetaRecord(body), what)
    t.same(parseNameRecord(body), { key: '00000000000000000007', converted: what === 'tab and newline', dev: 0x803n, ino: 9n, nlink: 2n, path }, what)
  }
})

t.test('sorted bytewise, an inode\'s meta records come first, in writing order, then its names', async (t) => {
  const recs = [
    nameRecord(10n, false, 1n, 10n, 1n, 'b'),
    metaRecord(10n, 3, meta({ uid: 3 })),
    metaRecord(9n, 5, meta({})),
    metaRecord(10n, 1, meta({ uid: 1 })),
    nameRecord(9n, false, 1n, 9n, 1n, 'a'),
  ].map((r) => r.slice(0, -1))
  const sorted = [...recs].sort((a, b) => Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1')))
  t.same(sorted.map((r) => isMetaRecord(r) ? `m${parseMetaRecord(r).uid}@${recordKey(r).slice(-2)}` : `n${parseNameRecord(r).path}`),
    ['m0@09', 'na', 'm1@10', 'm3@10', 'nb'])
  t.throws(() => parseMetaRecord('garbage'), /malformed meta record/)
  t.throws(() => parseNameRecord('garbage'), /malformed name record/)
})
