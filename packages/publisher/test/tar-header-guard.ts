import t from 'tap'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { TarHeaderGuard, parsePaxRecords, parseTarNumber, tarChecksumOk } from '../src/tar-header-guard.js'
import { paxRecords, rawTar, tarHeader } from './lib/make-archive.js'

const limits = { maxUnpackedBytes: 1 << 20, maxHeaderBytes: 4096 }

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
    ['big K', Buffer.concat([tarHeader({ name: 'K', type: 'K', size: 4097 })]), 'E_ARCHIVE_UNSAFE', /GNU long link name of 4097 bytes/],
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
