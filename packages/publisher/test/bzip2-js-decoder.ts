import t from 'tap'
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import Bunzip from 'seek-bzip'
import { Bzip2JsDecoder } from '../src/bzip2-js-decoder.js'
import { compressBytes } from './lib/make-archive.js'

/** Feed `data` in 1 MiB chunks and collect the output, consuming slowly to exercise backpressure. */
const decode = async (data: Buffer, slow = false): Promise<{ out: Buffer, pieces: number[] }> => {
  const chunks = Array.from({ length: Math.ceil(data.length / 1048576) }, (_, i) => data.subarray(i * 1048576, (i + 1) * 1048576))
  const parts: Buffer[] = []
  await pipeline(Readable.from(chunks), new Bzip2JsDecoder('x.tar.bz2'), async function * (src) {
    for await (const p of src) {
      parts.push(p as Buffer)
      if (slow) await new Promise((resolve) => setImmediate(resolve))
    }
  })
  return { out: Buffer.concat(parts), pieces: parts.map((p) => p.length) }
}

t.test('decodes pbzip2 multi-stream output fully (seek-bzip alone stops after the first stream)', async (t) => {
  const plain = randomBytes(2_500_000)
  const multi = compressBytes(plain, 'pbzip2')
  const single = Bunzip.decode(multi)
  t.equal(single?.length, 900_000, 'single-stream decoding returns only the first pbzip2 block')
  const { out, pieces } = await decode(multi, true)
  t.equal(out.length, plain.length)
  t.ok(out.equals(plain), 'every stream decoded')
  t.ok(pieces.slice(0, -1).every((n) => n >= 256 * 1024), 'output comes in pieces of at least 256 KiB')
})

t.test('lbzip2 and bzip2 output', async (t) => {
  const plain = Buffer.from('tar bytes '.repeat(100_000))
  for (const how of ['lbzip2', 'bzip2'] as const) t.ok((await decode(compressBytes(plain, how))).out.equals(plain), how)
})

t.test('damage is E_ARCHIVE_CORRUPT', async (t) => {
  const bz = compressBytes(randomBytes(300_000), 'bzip2')
  await t.rejects(decode(bz.subarray(0, bz.length >> 1)), { code: 'E_ARCHIVE_CORRUPT', message: /x\.tar\.bz2 is damaged: bzip2 \(seek-bzip\): unexpected end/ })
  const flipped = Buffer.from(bz)
  flipped[5000] = (flipped[5000] ?? 0) ^ 0x55
  await t.rejects(decode(flipped), { code: 'E_ARCHIVE_CORRUPT', message: /seek-bzip/ })
  await t.rejects(decode(Buffer.from('BZh9 not really')), { code: 'E_ARCHIVE_CORRUPT' })
})
