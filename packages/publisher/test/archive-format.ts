import t from 'tap'
import { detectArchiveFormat } from '../src/archive-format.js'
import { compressBytes } from './lib/make-archive.js'

const data = Buffer.from('some tar bytes '.repeat(100))

t.test('detects real tool output by magic', async (t) => {
  t.same(detectArchiveFormat(compressBytes(data, 'bzip2'), 'x.tar.bz2'), { format: 'bz2' })
  t.same(detectArchiveFormat(compressBytes(data, 'pbzip2'), 'x.tar.bz2'), { format: 'bz2' })
  t.same(detectArchiveFormat(compressBytes(data, 'xz'), 'x.tar.xz'), { format: 'xz' })
  t.same(detectArchiveFormat(compressBytes(data, 'lzma'), 'x.tar.lzma'), { format: 'lzma' })
  t.same(detectArchiveFormat(compressBytes(data, 'xz'), 'noext'), { format: 'xz' })
})

t.test('the name is only a hint', async (t) => {
  const r = detectArchiveFormat(compressBytes(data, 'xz'), 'x.tar.bz2')
  t.equal(r.format, 'xz')
  t.match(r.warning, /named like bz2 but holds xz/)
})

t.test('unknown bytes', async (t) => {
  const junk = Buffer.from('0123456789abcdef')
  t.throws(() => detectArchiveFormat(junk, 'x.tar.bz2'), { code: 'E_ARCHIVE_CORRUPT', message: /x\.tar\.bz2 does not start like bz2/ })
  t.throws(() => detectArchiveFormat(junk, 'x.tar'), { code: 'E_ARCHIVE_FORMAT', message: /not a bzip2, xz or lzma/ })
  t.throws(() => detectArchiveFormat(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 'x.tar.gz'), { code: 'E_ARCHIVE_FORMAT', message: /gzip/ })
  t.throws(() => detectArchiveFormat(Buffer.from('BZh0'), 'x.tar.bz2'), { code: 'E_ARCHIVE_CORRUPT' }, 'bz2 level out of range')
  t.throws(() => detectArchiveFormat(Buffer.alloc(0), 'x.tar.xz'), { code: 'E_ARCHIVE_CORRUPT' }, 'empty file')
})
