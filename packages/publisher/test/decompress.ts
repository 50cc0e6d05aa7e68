import t from 'tap'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { chooseDecoder, findOnPath, openDecoder } from '../src/decompress.js'
import { compressBytes } from './lib/make-archive.js'

t.test('chooseDecoder', async (t) => {
  const has = (...tools: string[]) => (n: string) => tools.includes(n) ? `/usr/bin/${n}` : undefined
  t.same(chooseDecoder('bz2', 'auto', has('lbzip2', 'bzip2')), { kind: 'native', command: '/usr/bin/lbzip2', args: ['-dc', '-n2'] })
  t.same(chooseDecoder('bz2', 'auto', has('bzip2')), { kind: 'native', command: '/usr/bin/bzip2', args: ['-dc'] })
  t.same(chooseDecoder('bz2', 'auto', has()), { kind: 'js' })
  t.same(chooseDecoder('bz2', 'js', has('lbzip2')), { kind: 'js' })
  t.throws(() => chooseDecoder('bz2', 'native', has()), { code: 'E_TOOL_MISSING', message: /lbzip2 nor bzip2/ })
  t.same(chooseDecoder('xz', 'js', has('xz')), { kind: 'native', command: '/usr/bin/xz', args: ['-dc', '--format=xz'] })
  t.same(chooseDecoder('lzma', 'auto', has('xz')), { kind: 'native', command: '/usr/bin/xz', args: ['-dc', '--format=lzma'] })
  t.throws(() => chooseDecoder('xz', 'auto', has('bzip2')), { code: 'E_TOOL_MISSING', message: /xz-utils/ })
})

t.test('findOnPath', async (t) => {
  t.equal(findOnPath('sh', '/nonexistent:/bin'), '/bin/sh')
  t.equal(findOnPath('no-such-tool-xs', '/bin:/usr/bin'), undefined)
  t.equal(findOnPath('sh', ''), undefined)
})

const decode = async (tool: string, args: string[], data: Buffer): Promise<Buffer> => {
  const parts: Buffer[] = []
  await pipeline(Readable.from([data]), openDecoder({ kind: 'native', command: tool, args }, 'x.tar.bz2'),
    async function * (src) { for await (const p of src) parts.push(p as Buffer) })
  return Buffer.concat(parts)
}

t.test('native decoders', async (t) => {
  const plain = Buffer.from('hello '.repeat(10000))
  t.same(await decode('bzip2', ['-dc'], compressBytes(plain, 'pbzip2')), plain)
  t.same(await decode('xz', ['-dc', '--format=lzma'], compressBytes(plain, 'lzma')), plain)
  const bz = compressBytes(plain, 'bzip2')
  await t.rejects(decode('bzip2', ['-dc'], bz.subarray(0, bz.length - 10)), { code: 'E_ARCHIVE_CORRUPT', message: /x\.tar\.bz2 is damaged: bzip2 exited with status 2/ })
  await t.rejects(decode('bzip2', ['-dc'], Buffer.concat([bz, Buffer.from('garbage')])), { code: 'E_ARCHIVE_CORRUPT', message: /bzip2 complained: .*trailing garbage/ }, 'stderr alone is damage')
  await t.rejects(decode('/nonexistent/tool', [], bz), { code: 'E_TOOL_MISSING' })
})
