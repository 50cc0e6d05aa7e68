import t from 'tap'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { chooseDecoder, findOnPath, lbzip2Threads, openDecoder, xzDecodesThreaded, xzVersionDecodesThreaded, XZ_THREAD_MEMORY } from '../src/decompress.js'
import { compressBytes } from './lib/make-archive.js'

t.test('chooseDecoder', async (t) => {
  const has = (...tools: string[]) => (n: string) => tools.includes(n) ? `/usr/bin/${n}` : undefined
  t.same(chooseDecoder('bz2', 'auto', has('lbzip2', 'bzip2'), undefined, 2), { kind: 'native', command: '/usr/bin/lbzip2', args: ['-dc', '-n2'] })
  t.same(chooseDecoder('bz2', 'auto', has('lbzip2', 'bzip2'), undefined, 8), { kind: 'native', command: '/usr/bin/lbzip2', args: ['-dc', '-n4'] }, 'bounded threads on many CPUs')
  t.same(chooseDecoder('bz2', 'auto', has('bzip2')), { kind: 'native', command: '/usr/bin/bzip2', args: ['-dc'] })
  t.same(chooseDecoder('bz2', 'auto', has()), { kind: 'js' })
  t.same(chooseDecoder('bz2', 'js', has('lbzip2')), { kind: 'js' })
  t.throws(() => chooseDecoder('bz2', 'native', has()), { code: 'E_TOOL_MISSING', message: /lbzip2 nor bzip2/ })
  t.same(chooseDecoder('xz', 'js', has('xz')), { kind: 'native', command: '/usr/bin/xz', args: ['-dc', '--format=xz'] })
  t.same(chooseDecoder('lzma', 'auto', has('xz')), { kind: 'native', command: '/usr/bin/xz', args: ['-dc', '--format=lzma'] })
  t.throws(() => chooseDecoder('xz', 'auto', has('bzip2')), { code: 'E_TOOL_MISSING', message: /xz-utils/ })
  const yes = (): boolean => true
  t.same(chooseDecoder('xz', 'auto', has('xz'), yes), { kind: 'native', command: '/usr/bin/xz', args: ['-dc', '-T0', `--memlimit-mt-decompress=${XZ_THREAD_MEMORY}`, '--format=xz'] },
    'xz >= 5.4: .xz decodes on all CPUs within a memory bound')
  t.same(chooseDecoder('lzma', 'auto', has('xz'), yes), { kind: 'native', command: '/usr/bin/xz', args: ['-dc', '--format=lzma'] }, '.lzma has no blocks to share out')
})

t.test('lbzip2 threads: one per CPU, within the memory bound', async (t) => {
  const table: Array<[number, number]> = [[1, 1], [2, 2], [3, 3], [4, 4], [6, 4], [64, 4], [0, 1], [2.5, 2]]
  for (const [cpus, want] of table) t.equal(lbzip2Threads(cpus), want, `${cpus} CPUs`)
})

t.test('xz versions that decode on threads', async (t) => {
  const table: Array<[string, boolean]> = [
    ['xz (XZ Utils) 5.4.1\nliblzma 5.4.1\n', true],
    ['xz (XZ Utils) 5.2.5\nliblzma 5.2.5\n', false],
    ['xz (XZ Utils) 5.6.2\nliblzma 5.6.2\n', true],
    ['xz (XZ Utils) 5.4.1\nliblzma 5.2.5\n', false],
    ['xz (XZ Utils) 6.0.0\n', true],
    ['xz (XZ Utils) 4.999.9beta\n', false],
    ['busybox xz\n', false],
    ['', false],
  ]
  for (const [text, want] of table) t.equal(xzVersionDecodesThreaded(text), want, JSON.stringify(text))
  // This machine's xz, asked for real (Debian 12 ships 5.4.1).
  const v = /liblzma (\d+)\.(\d+)/.exec(execFileSync('xz', ['--version'], { encoding: 'utf8' }))
  t.equal(xzDecodesThreaded(findOnPath('xz') ?? 'xz'), Number(v?.[1]) > 5 || (Number(v?.[1]) === 5 && Number(v?.[2]) >= 4))
  t.equal(xzDecodesThreaded('/nonexistent/xz'), false)
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
  const xz = findOnPath('xz') ?? 'xz'
  const spec = chooseDecoder('xz', 'auto', () => xz, xzDecodesThreaded)
  if (spec.kind === 'native' && spec.args.includes('-T0')) {
    // A multi-block file decoded on threads: the same bytes, nothing on stderr; cut short, damage.
    const big = Buffer.from(Array.from({ length: 40000 }, (_, i) => `line ${i} of a multi-block file\n`).join(''))
    const file = join(t.testdir({}), 'multi.xz')
    execFileSync('sh', ['-c', 'xz -T2 --block-size=100KiB -c > "$1"', 'sh', file], { input: big })
    t.match(execFileSync('xz', ['--robot', '-l', file]).toString(), /^file\t1\t(\d\d+)\t/m, 'the file has several blocks')
    const multi = readFileSync(file)
    t.same(await decode(xz, spec.args, multi), big)
    await t.rejects(decode(xz, spec.args, multi.subarray(0, multi.length - 100)), { code: 'E_ARCHIVE_CORRUPT', message: /xz exited with status 1/ })
  }
  const bz = compressBytes(plain, 'bzip2')
  await t.rejects(decode('bzip2', ['-dc'], bz.subarray(0, bz.length - 10)), { code: 'E_ARCHIVE_CORRUPT', message: /x\.tar\.bz2 is damaged: bzip2 exited with status 2/ })
  await t.rejects(decode('bzip2', ['-dc'], Buffer.concat([bz, Buffer.from('garbage')])), { code: 'E_ARCHIVE_CORRUPT', message: /bzip2 complained: .*trailing garbage/ }, 'stderr alone is damage')
  await t.rejects(decode('/nonexistent/tool', [], bz), { code: 'E_TOOL_MISSING' })
})
