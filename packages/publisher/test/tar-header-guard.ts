import t from 'tap'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import tar from 'tar-stream'
import { TarHeaderGuard, parseNegativeBase256, parsePaxRecords, parseTarNumber, setTarChecksum, tarChecksumOk } from '../src/tar-header-guard.js'
import { paxRecords, rawTar, tarHeader, type RawEntry } from './lib/make-archive.js'

const limits = { maxUnpackedBytes: 1 << 20, maxHeaderBytes: 4096, maxPathBytes: 1024, maxPaxRecords: 100 }

/** Run bytes through a guard in `chunk`-byte pieces; returns what it let through. */
const guard = async (data: Buffer, chunk = 7): Promise<{ out: Buffer, g: TarHeaderGuard }> => {
  const g = new TarHeaderGuard('t.tar', limits)
  const parts: Buffer[] = []
  const pieces = Array.from({ length: Math.ceil(data.length / chunk) }, (_, i) => data.subarray(i * chunk, (i + 1) * chunk))
  await pipeline(Readable.from(pieces), g, async function * (src) { for await (const p of src) parts.push(p as Buffer) })
  return { out: Buffer.concat(parts), g }
}

t.test('parseTarNumber', async (t) => {
  const cases: [Buffer, number | 'negative' | 'bad'][] = [
    [Buffer.from('00000000012\0'), 10], [Buffer.from('     12 \0\0\0\0'), 10], [Buffer.from('\0\0\0\0'), 0], [Buffer.from('    '), 0],
    [Buffer.from('777777777777'), 0o777777777777], [Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]), 2 ** 32],
    [Buffer.from([0xff, 0xff, 0xff, 0xfe]), 'negative'], [Buffer.from('0000009\0'), 'bad'], [Buffer.from('12 34\0'), 'bad'],
    [Buffer.from('-1\0'), 'bad'], [Buffer.from([0x90, 0]), 'bad'], [Buffer.from('0x10\0'), 'bad'],
  ]
  for (const [field, want] of cases) t.equal(parseTarNumber(field), want, JSON.stringify(field.toString('latin1')))
})

t.test('tarChecksumOk', async (t) => {
  t.ok(tarChecksumOk(tarHeader({ name: 'a' })))
  t.notOk(tarChecksumOk(tarHeader({ name: 'a', badChecksum: true })))
  const h = tarHeader({ name: 'a' })
  h[0] = 0x62
  t.notOk(tarChecksumOk(h), 'a changed byte breaks it')
})

t.test('parsePaxRecords', async (t) => {
  const recs = parsePaxRecords(paxRecords([['path', 'a b=c'], ['size', '12']]))
  t.equal(recs.get('path')?.toString(), 'a b=c')
  t.equal(recs.get('size')?.toString(), '12')
  t.same(parsePaxRecords(Buffer.from('11 path=\xff\xfe\n', 'latin1')).get('path'), Buffer.from([0xff, 0xfe]), 'values stay raw bytes')
  for (const bad of ['junk', '5 a=b\n', '99 path=x\n', '0 x=y\n', '8 novalue\n', '7 =val\n']) {
    t.throws(() => parsePaxRecords(Buffer.from(bad)), /malformed pax record/, JSON.stringify(bad))
  }
  t.same([...parsePaxRecords(Buffer.concat([paxRecords([['a', '1']]), Buffer.alloc(20)])).keys()], ['a'], 'NUL padding ends the records')
})

t.test('passes a valid archive through unchanged, in any chunking, and stops at the end marker', async (t) => {
  const tar = rawTar([{ name: 'a', data: Buffer.alloc(1000, 1) }, { name: 'd', type: '5' }, { name: 'PaxHeaders/x', type: 'x', data: paxRecords([['path', 'long/name'], ['size', '3']]) }, { name: 'x', size: 0, data: Buffer.alloc(0) }])
  // The pax size (3) governs the next entry's payload; build it by hand.
  const paxed = Buffer.concat([tar.subarray(0, tar.length - 1024 - 512), tarHeader({ name: 'x', size: 0 }), Buffer.from('abc'), Buffer.alloc(509), Buffer.alloc(1024), Buffer.from('trailing junk')])
  for (const chunk of [1, 7, 512, 513, 100000]) {
    const { out, g } = await guard(paxed, chunk)
    t.same(out, paxed.subarray(0, paxed.length - 1024 - 13), `chunk ${chunk}: everything before the end marker`)
    t.ok(g.ended)
    t.same(g.paxRaw, [{ path: 'long/name' }])
  }
})

t.test('rejections', async (t) => {
  const cases: [string, Buffer, string, RegExp][] = [
    ['bad checksum', rawTar([{ name: 'a', badChecksum: true }]), 'E_ARCHIVE_CORRUPT', /bad tar header checksum at byte 0/],
    ['no magic', (() => { const h = tarHeader({ name: 'v7' }); h.fill(0, 257, 265); let s = 0; h.write('        ', 148, 'latin1'); for (const b of h) s += b; h.write(s.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1'); return Buffer.concat([h, Buffer.alloc(1024)]) })(),
      'E_ARCHIVE_CORRUPT', /without ustar\/GNU magic/],
    ['big pax', Buffer.concat([tarHeader({ name: 'P', type: 'x', size: 5000 })]), 'E_ARCHIVE_UNSAFE', /pax header of 5000 bytes at byte 0 \(limit 4096\)/],
    ['big K', Buffer.concat([tarHeader({ name: 'K', type: 'K', size: 1028 })]), 'E_ARCHIVE_UNSAFE', /GNU long link name of 1028 bytes at byte 0 \(limit 1027\)/],
    ['dir with size', rawTar([{ name: 'd', type: '5', data: Buffer.from('x') }]), 'E_ARCHIVE_CORRUPT', /directory "d" has a size of 1 bytes/],
    ['old-style dir with size', rawTar([{ name: 'd/', data: Buffer.from('x') }]), 'E_ARCHIVE_CORRUPT', /directory "d\/" has a size of 1 bytes/],
    ['pax size junk', rawTar([{ name: 'P', type: 'x', data: paxRecords([['size', '1e3']]) }, { name: 'a' }]), 'E_ARCHIVE_CORRUPT', /pax size "1e3"/],
    ['dangling pax', rawTar([{ name: 'P', type: 'x', data: paxRecords([['path', 'a']]) }]), 'E_ARCHIVE_CORRUPT', /no entry/],
    ['truncated header', tarHeader({ name: 'a' }).subarray(0, 300), 'E_ARCHIVE_CORRUPT', /truncated/],
    ['over the size limit', rawTar([{ name: 'big', size: (1 << 20) + 1 }], false), 'E_ARCHIVE_UNSAFE', /entry "big" takes the unpacked size over 1048576/],
    ['trailer bomb', Buffer.concat([rawTar([{ name: 'a' }]), Buffer.alloc(17 * 1024 * 1024)]), 'E_ARCHIVE_UNSAFE', /after the end-of-archive marker/],
  ]
  for (const [what, data, code, message] of cases) {
    await t.rejects(guard(data, 4096), { name: 'XsError', code, message, path: 't.tar' }, what)
  }
})

/** A header with a raw field written over it (checksum recomputed). */
const withField = (e: RawEntry, at: number, bytes: number[]): Buffer => {
  const h = tarHeader(e)
  Buffer.from(bytes).copy(h, at)
  setTarChecksum(h)
  return h
}

t.test('what GNU tar reads differently is refused, each with its reason', async (t) => {
  const x = (recs: [string, string][]): RawEntry => ({ name: 'PaxHeaders/x', type: 'x', data: paxRecords(recs) })
  const cases: [string, Buffer, string, RegExp][] = [
    ['no end-of-archive marker', rawTar([{ name: 'a', data: Buffer.from('x') }], false), 'E_ARCHIVE_CORRUPT', /has no end-of-archive marker \(the tar data stops after "a"\)/],
    ['empty', Buffer.alloc(0), 'E_ARCHIVE_CORRUPT', /holds no entries/],
    ['a global header that sets mtime', rawTar([{ name: 'g', type: 'g', data: paxRecords([['comment', 'ok'], ['mtime', '5']]) }, { name: 'a' }]),
      'E_ARCHIVE_UNSAFE', /pax global header that sets "mtime" .*GNU tar would apply it to every later entry/],
    ['a global header that sets uid', rawTar([{ name: 'g', type: 'g', data: paxRecords([['uid', '7']]) }, { name: 'a' }]), 'E_ARCHIVE_UNSAFE', /sets "uid"/],
    ['two pax headers for one entry', rawTar([x([['path', 'b']]), x([['mtime', '5']]), { name: 'a' }]), 'E_ARCHIVE_UNSAFE', /two pax headers for one entry .*GNU tar would use only the last/],
    ['two GNU long names', rawTar([{ name: '././@LongLink', type: 'L', data: Buffer.from('b\0') }, { name: '././@LongLink', type: 'L', data: Buffer.from('c\0') }, { name: 'a' }]),
      'E_ARCHIVE_UNSAFE', /two GNU long names for one entry/],
    ['a pax header and a GNU long name', rawTar([x([['path', 'b']]), { name: '././@LongLink', type: 'L', data: Buffer.from('c\0') }, { name: 'a' }]),
      'E_ARCHIVE_UNSAFE', /mixes a pax header and a GNU long name/],
    ['sparse 1.0', rawTar([x([['GNU.sparse.major', '1'], ['GNU.sparse.minor', '0'], ['GNU.sparse.name', 'big'], ['GNU.sparse.realsize', '99']]), { name: 'GNUSparseFile.0/big' }]),
      'E_ARCHIVE_UNSAFE', /entry "big" is a GNU sparse file \(pax format 1\.0\); xs-rsync does not unpack sparse files/],
    ['sparse 0.1', rawTar([x([['GNU.sparse.size', '99'], ['GNU.sparse.numblocks', '1'], ['GNU.sparse.map', '0,1']]), { name: 'big' }]),
      'E_ARCHIVE_UNSAFE', /is a GNU sparse file \(pax format 0\.1\)/],
    ['sparse 0.0', rawTar([x([['GNU.sparse.size', '99'], ['GNU.sparse.numblocks', '1'], ['GNU.sparse.offset', '0'], ['GNU.sparse.numbytes', '1'], ['path', 'big']]), { name: 'big' }]),
      'E_ARCHIVE_UNSAFE', /entry "big" is a GNU sparse file \(pax format 0\.0\)/],
    ['old GNU sparse', rawTar([{ name: 'big', type: 'S' }]), 'E_ARCHIVE_UNSAFE', /entry "big" is a GNU sparse file \(the old GNU format\)/],
    ['SCHILY.devmajor', rawTar([x([['SCHILY.devmajor', '300000000']]), { name: 'dev', type: '3' }]), 'E_ARCHIVE_UNSAFE', /sets SCHILY\.devmajor, which xs-rsync does not restore/],
    ['too many pax records', rawTar([x(Array.from({ length: 101 }, (_, i): [string, string] => [`k${i}`, 'v'])), { name: 'a' }]), 'E_ARCHIVE_UNSAFE', /pax header .* with more than 100 pax records/],
    ['a pax path over the path limit', rawTar([x([['path', 'p'.repeat(1100)]]), { name: 'a' }]), 'E_ARCHIVE_UNSAFE', /pax path of 1100 bytes .*\(limit 1024\)/],
    ['a pax linkpath over the path limit', rawTar([x([['linkpath', 'p'.repeat(1100)]]), { name: 'a', type: '2' }]), 'E_ARCHIVE_UNSAFE', /pax linkpath of 1100 bytes/],
    ['a pax mtime GNU tar does not read', rawTar([x([['mtime', '0x10']]), { name: 'a' }]), 'E_ARCHIVE_CORRUPT', /pax mtime "0x10" that is not a number/],
    ['a pax uid that is no number', rawTar([x([['uid', '-1']]), { name: 'a' }]), 'E_ARCHIVE_CORRUPT', /pax uid "-1" that is not a number/],
    ['a negative uid field', Buffer.concat([withField({ name: 'a' }, 108, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), Buffer.alloc(1024)]), 'E_ARCHIVE_UNSAFE', /entry "a" has a negative uid field/],
  ]
  for (const [what, data, code, message] of cases) {
    await t.rejects(guard(data, 4096), { name: 'XsError', code, message, path: 't.tar' }, what)
  }
})

t.test('what GNU tar reads the same way passes', async (t) => {
  const ok: [string, Buffer][] = [
    ['a global header with a comment (git archive)', rawTar([{ name: 'g', type: 'g', data: paxRecords([['comment', '1234abcd']]) }, { name: 'a' }])],
    ['one zero block as the end (GNU tar: "A lone zero block")', Buffer.concat([tarHeader({ name: 'a' }), Buffer.alloc(512)])],
    ['a long name and a long link name for one hardlink', rawTar([{ name: 't' }, { name: '././@LongLink', type: 'K', data: Buffer.from('t\0') }, { name: '././@LongLink', type: 'L', data: Buffer.from('n\0') }, { name: 'x', type: '1', linkname: 'x' }])],
  ]
  for (const [what, data] of ok) {
    const { g } = await guard(data, 4096)
    t.ok(g.ended, what)
  }
})

t.test('negative base-256 mtimes reach tar-stream as GNU tar reads them', async (t) => {
  for (const v of [-1, -2, -255, -256, -86400, -1e10, -(2 ** 40)]) {
    const field = Buffer.alloc(12)
    let x = (1n << 96n) + BigInt(v)
    for (let i = 11; i >= 0; i--) { field[i] = Number(x & 0xffn); x >>= 8n }
    t.equal(parseNegativeBase256(field), v, `${v} read as two's complement`)
    const h = withField({ name: 'old' }, 136, [...field])
    const { out } = await guard(Buffer.concat([h, Buffer.alloc(1024)]), 4096)
    t.ok(tarChecksumOk(out.subarray(0, 512)), 'the rewritten header has a right checksum')
    const seen = await new Promise<number>((resolve, reject) => {
      const ex = tar.extract()
      ex.on('entry', (hd, s, next) => { resolve(hd.mtime.getTime() / 1000); s.resume(); next() })
      ex.on('error', reject)
      ex.end(Buffer.concat([out, Buffer.alloc(1024)]))
    })
    t.equal(seen, v, `tar-stream reads ${v}`)
  }
})
