// Pax times to the nanosecond, read as GNU tar reads them, written as GNU touch takes them:
// each case checked against the real tools.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { entryTime, exactTimeText, nsTimeText, parsePaxTime } from '../src/file-time.js'
import { paxRecords, rawTar } from './lib/make-archive.js'

/** [pax mtime text, exact time as `stat -c %.9Y` prints it] */
const cases: [string, string][] = [
  ['1796607276.123456789', '1796607276.123456789'],
  ['1796607276', '1796607276.000000000'],
  ['1796607276.', '1796607276.000000000'],
  ['1.5', '1.500000000'],
  ['1.9999999999999', '1.999999999'],
  ['1796607276.653452', '1796607276.653452000'],
  ['-86400', '-86400.000000000'],
  ['-1.5', '-1.500000000'],
  ['-1.123456789123', '-1.123456790'],
  ['-1.123456789000', '-1.123456789'],
  ['-0.000000000001', '-0.000000001'],
  ['-0.5', '-0.500000000'],
]

t.test('parsePaxTime and exactTimeText agree with GNU tar and touch', async (t) => {
  const dir = t.testdir({})
  for (const [text, want] of cases) {
    const time = parsePaxTime(text)
    t.ok(time.nsec >= 0 && time.nsec < 1e9 && Number.isInteger(time.sec), `${text}: whole seconds and 0..999999999 ns`)
    t.equal(exactTimeText(time), want, `${text} reads as ${want}`)
    const sub = join(dir, `c${cases.findIndex((c) => c[0] === text)}`)
    execFileSync('mkdir', [sub])
    const tarFile = join(sub, 'a.tar')
    writeFileSync(tarFile, rawTar([{ name: 'PaxHeaders/f', type: 'x', data: paxRecords([['mtime', text]]) }, { name: 'f', data: Buffer.from('x') }]))
    execFileSync('tar', ['-xf', tarFile, '-C', sub], { stdio: ['ignore', 'ignore', 'ignore'] })
    t.equal(execFileSync('stat', ['-c', '%.9Y', join(sub, 'f')], { encoding: 'utf8' }).trim(), want, `${text}: GNU tar extracts ${want}`)
    execFileSync('touch', ['-h', '-m', '-d', `@${exactTimeText(time)}`, '--', join(sub, 'a.tar')])
    t.equal(execFileSync('stat', ['-c', '%.9Y', tarFile], { encoding: 'utf8' }).trim(), want, `${text}: touch -d @${exactTimeText(time)} sets it`)
  }
})

t.test('nsTimeText is exactTimeText of a stat\'s mtimeNs', async (t) => {
  for (const [ns, want] of [[1796607276123456789n, '1796607276.123456789'], [0n, '0.000000000'], [-1n, '-0.000000001'],
    [-1500000000n, '-1.500000000'], [-86400000000000n, '-86400.000000000']] as const) {
    t.equal(nsTimeText(ns), want, String(ns))
  }
})

t.test('entryTime: the pax record when there is one, else the header\'s whole seconds', async (t) => {
  t.same(entryTime('12.25', new Date(5000)), { sec: 12, nsec: 250000000 })
  t.same(entryTime(undefined, new Date(5000)), { sec: 5, nsec: 0 })
  t.same(entryTime('', new Date(-86400000)), { sec: -86400, nsec: 0 })
})
