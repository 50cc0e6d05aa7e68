import t from 'tap'
import type { BuildRecord } from '@xs-rsync/publisher'
import { humanSize, renderBuildTable } from '../../src/commands/list.js'

t.test('sizes', async (t) => {
  for (const [n, s] of [[0, '0 B'], [1023, '1023 B'], [1536, '1.5 KiB'], [160 * 1024 ** 2, '160.0 MiB'], [3 * 1024 ** 3, '3.0 GiB']] as const) {
    t.equal(humanSize(n), s)
  }
})

t.test('table', async (t) => {
  t.equal(renderBuildTable([]), 'No builds are published.')
  const rec = (name: string, bytes: number, entries: number): BuildRecord => ({
    name, tree: `${name}@1`, tarball: `os${name}-tree.tar.bz2`, md5: 'd41d8cd98f00b204e9800998ecf8427e', size: 1, mtimeMs: 1, ino: 1,
    md5FileHash: '', contentsHash: '', entries, bytes, publishedAt: '2026-11-26T10:00:00.123Z', backend: 'fake-super',
  })
  const signed = { ...rec('46', 1, 1), extra: { ingest: { signedAt: '2026-11-20T08:00:00.000Z', signedBy: 'A'.repeat(40) } } }
  const unsigned = { ...rec('47', 1, 1), extra: { ingest: { signedAt: null, signedBy: null } } }
  t.equal(renderBuildTable([rec('44', 2048, 12), rec('45-long', 5 * 1024 ** 3, 123456), signed, unsigned]), [
    'NAME     SIZE     FILES   PUBLISHED             TARBALL                 MD5                               SIGNED                SIGNED BY',
    '44       2.0 KiB  12      2026-11-26 10:00:00Z  os44-tree.tar.bz2       d41d8cd98f00b204e9800998ecf8427e  -                     -',
    '45-long  5.0 GiB  123456  2026-11-26 10:00:00Z  os45-long-tree.tar.bz2  d41d8cd98f00b204e9800998ecf8427e  -                     -',
    `46       1 B      1       2026-11-26 10:00:00Z  os46-tree.tar.bz2       d41d8cd98f00b204e9800998ecf8427e  2026-11-20 08:00:00Z  ${'A'.repeat(40)}`,
    '47       1 B      1       2026-11-26 10:00:00Z  os47-tree.tar.bz2       d41d8cd98f00b204e9800998ecf8427e  unsigned              -',
  ].join('\n'))
})
