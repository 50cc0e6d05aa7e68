import t from 'tap'
import type { BuildRecord } from '@xs-rsync/publisher'
import { renderStatus } from '../../src/commands/status.js'

const rec: BuildRecord = {
  name: '44', tree: '44@x', tarball: 'os44-tree.tar.bz2', md5: 'd'.repeat(32), size: 1, mtimeMs: 1, ino: 1,
  md5FileHash: 'a', contentsHash: 'b', entries: 23, bytes: 2 * 1024 * 1024, publishedAt: '2026-11-26T10:00:00.000Z', backend: 'fake-super',
}

t.test('renderStatus: in progress, last result, builds', async (t) => {
  t.equal(renderStatus({ running: [] }, []), 'No ingest in progress.\nNo ingest has finished yet.\n\nNo job has finished yet.\n\nNo builds are published.')
  const text = renderStatus({
    running: [{ pid: 42, source: '/dev/sdb1 (label "NOC")', startedAt: '2026-11-26T10:00:00Z', updatedAt: 'x', step: 7, steps: 8, title: 'Copying and verifying 300.0 MB', percent: 40 }],
    last: { finishedAt: '2026-11-25T09:00:00Z', source: '/dev/sdc1', ok: false, published: [], skipped: ['43'], code: 'E_DOWNGRADE', message: 'older', line: 'FAILED: stick is older than what is published: older. Use a newer stick.' },
  }, [rec])
  t.equal(text, [
    'Ingest in progress (pid 42, since 2026-11-26T10:00:00Z): /dev/sdb1 (label "NOC")',
    '  [7/8] Copying and verifying 300.0 MB: 40%',
    'Last ingest: FAILED at 2026-11-25T09:00:00Z, stick /dev/sdc1',
    '  already published (skipped): 43',
    '  refused (E_DOWNGRADE): older',
    '  FAILED: stick is older than what is published: older. Use a newer stick.',
    '',
    'No job has finished yet.',
    '',
    'NAME  SIZE     FILES  PUBLISHED             TARBALL            MD5                               SIGNED  SIGNED BY',
    `44    2.0 MiB  23     2026-11-26 10:00:00Z  os44-tree.tar.bz2  ${'d'.repeat(32)}  -       -`,
  ].join('\n'))
})

t.test('jobs of every kind in progress, and the history newest first with the stick and who signed', async (t) => {
  const text = renderStatus({ running: [] }, [], [{ pid: 42, kind: 'refresh', args: [], startedAt: '2026-12-06T23:00:00.000Z' }], [
    { kind: 'refresh', args: ['--force'], startedAt: '2026-12-06T22:59:00.000Z', finishedAt: '2026-12-06T23:01:00.000Z', ok: true, line: 'DONE: published 44' },
    { kind: 'ingest', args: ['/dev/sdb1'], source: '/dev/sdb1 (label "NOC")', startedAt: '2026-12-06T22:00:00.000Z', finishedAt: '2026-12-06T22:01:00.123Z',
      ok: false, code: 'E_SIGNATURE_BAD', line: 'FAILED: stick signature is not valid: ...', signedBy: null },
    { kind: 'ingest', args: ['/dev/sdb1'], source: '/dev/sdb1', startedAt: '2026-12-06T21:00:00.000Z', finishedAt: '2026-12-06T21:01:00.000Z',
      ok: true, line: 'DONE: builds now available to laptops: 44 (rsync://xs/build-44)', signedBy: 'ABCD1234' },
  ])
  t.match(text, /^Job in progress \(pid 42, since 2026-12-06T23:00:00\.000Z\): xs-rsync refresh\nNo ingest in progress \(other jobs above\)\./)
  t.match(text, /Last 3 jobs \(newest first\):\n {2}2026-12-06 23:01:00Z {2}ok {6}refresh --force\n {6}DONE: published 44\n/)
  t.match(text, / {2}2026-12-06 22:01:00Z {2}FAILED \(E_SIGNATURE_BAD\) {2}ingest \/dev\/sdb1 \(label "NOC"\), unsigned\n {6}FAILED: stick signature is not valid/)
  t.match(text, /ingest \/dev\/sdb1, signed by ABCD1234\n {6}DONE: builds now available/)
})
