import t from 'tap'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { journalLine } from '../../src/sinks/journal.js'
import type { Level } from '@xs-rsync/core'

t.test('journalLine: <severity> prefix on every line', async (t) => {
  const cases: Array<[Level, string, string]> = [
    ['err', 'FAILED: x', '<3>FAILED: x\n'],
    ['warning', 'w', '<4>w\n'],
    ['notice', 'n', '<5>n\n'],
    ['info', 'a\nb', '<6>a\n<6>  b\n'],
    ['debug', 'd\r\ne', '<7>d\\u000d\n<7>  e\n'],
    ['notice', 'x\rDONE: forged over the line', '<5>x\\u000dDONE: forged over the line\n'],
    ['notice', 'x\u001b[1A\u001b[2Ky', '<5>x\\u001b[1A\\u001b[2Ky\n'],
    ['notice', 'Ignoring x\nDONE: forged', '<5>Ignoring x\n<5>  DONE: forged\n'],
  ]
  for (const [level, msg, want] of cases) t.equal(journalLine(level, msg), want, JSON.stringify(msg))
})

t.test('under systemd the CLI writes <N> lines to stdout for journald', async (t) => {
  const dir = t.testdir({ stick: { 'photos.txt': 'no builds here' } })
  const cli = fileURLToPath(new URL('../../bin/xs-rsync.js', import.meta.url))
  const r = spawnSync(process.execPath, [cli, 'ingest', '--root', `${dir}/store`, `${dir}/stick`], {
    encoding: 'utf8', timeout: 60_000, env: { ...process.env, INVOCATION_ID: '0123456789abcdef', JOURNAL_STREAM: '' },
  })
  t.equal(r.status, 0, r.stderr)
  const lines = r.stdout.trim().split('\n')
  t.match(lines[0], /^<5>\[1\/\d+\] Finding the builds on /)
  t.match(lines.at(-1), /^<5>DONE: .* holds no xs-xobuilds folder/)
  t.ok(lines.every((l) => /^<[3-7]>/.test(l)), 'every line has a severity prefix')
})
