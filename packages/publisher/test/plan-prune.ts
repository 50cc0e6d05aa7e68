import t from 'tap'
import type { BuildRecord } from '../src/build-record.js'
import { arrivedAt, buildSeries, planPrune } from '../src/plan-prune.js'

const MB = 1024 * 1024
const rec = (name: string, day: number, extra: Partial<BuildRecord> = {}): BuildRecord => ({
  name, tree: `${name}@1`, tarball: `${name}-tree.tar.bz2`, md5: '0'.repeat(32), size: 100 * MB, mtimeMs: 0, ino: 1,
  md5FileHash: '', contentsHash: '', entries: 10, bytes: 400 * MB, backend: 'fake-super',
  publishedAt: `2026-01-${String(day).padStart(2, '0')}T00:00:00.000Z`, ...extra,
})

t.test('buildSeries: the name without its version (the longest run of digits and dots)', async (t) => {
  const cases: [string, string][] = [
    ['44', ''], ['os883', 'os'], ['os884', 'os'], ['os1000', 'os'],
    ['13.2.10-xo4', '-xo4'], ['13.2.11-xo4', '-xo4'], ['13.2.10-xo1', '-xo1'], ['xo4-13.2.10', 'xo4-'],
    ['32014o4', 'o4'], ['32015o4', 'o4'], ['21021o1', 'o1'],
    ['a1b2', 'a1b'], ['nightly', 'nightly'],
  ]
  for (const [name, want] of cases) t.equal(buildSeries(name), want, name)
})

t.test('arrivedAt: the ingest time when there is one, else the publish time', async (t) => {
  t.equal(arrivedAt(rec('a', 5)), '2026-01-05T00:00:00.000Z')
  t.equal(arrivedAt(rec('a', 5, { extra: { ingest: { ingestedAt: '2025-12-01T00:00:00.000Z' } } })), '2025-12-01T00:00:00.000Z')
  t.equal(arrivedAt(rec('a', 5, { extra: { ingest: { ingestedAt: 'garbage' } } })), '2026-01-05T00:00:00.000Z')
})

t.test('which builds go', async (t) => {
  const three = [rec('46', 3), rec('44', 1), rec('45', 2)]
  const mixed = [rec('os1', 1), rec('os2', 2), rec('xo7', 3), rec('os3', 4)]
  const cases: [string, BuildRecord[], Parameters<typeof planPrune>[1], string[], { short?: number, over?: number }][] = [
    ['keep 2 of 3: the oldest goes', three, { keep: 2 }, ['44'], {}],
    ['keep 1 of 3: oldest first', three, { keep: 1 }, ['44', '45'], {}],
    ['keep 0: never the newest of a series', three, { keep: 0 }, ['44', '45'], { over: 1 }],
    ['keep more than there are: nothing', three, { keep: 5 }, [], {}],
    ['series: xo7 is the newest (only) of its series', mixed, { keep: 1 }, ['os1', 'os2'], { over: 1 }],
    ['OLPC release names: one series per laptop model', [rec('13.2.10-xo4', 1), rec('13.2.10-xo1', 2), rec('13.2.11-xo4', 3), rec('13.2.11-xo1', 4)],
      { keep: 0 }, ['13.2.10-xo4', '13.2.10-xo1'], { over: 2 }],
    ['OLPC build numbers: 32014o4 before 32015o4', [rec('32014o4', 1), rec('32015o4', 2)], { keep: 0 }, ['32014o4'], { over: 1 }],
    ['free: already enough', three, { free: 100 * MB, freeNow: 200 * MB }, [], {}],
    ['free: one build (500 MB) is enough', three, { free: 600 * MB, freeNow: 200 * MB }, ['44'], {}],
    ['free: two needed', three, { free: 1000 * MB, freeNow: 200 * MB }, ['44', '45'], {}],
    ['free: cannot reach it', three, { free: 5000 * MB, freeNow: 0 }, ['44', '45'], { short: 4000 * MB }],
    ['both: the stricter wins', three, { keep: 2, free: 1000 * MB, freeNow: 200 * MB }, ['44', '45'], {}],
    ['hand-published: its tarball is not the store\'s', [rec('a1', 1, { source: '/x/a1-tree.tar.bz2' }), rec('a2', 2)], { free: 450 * MB, freeNow: 0 }, ['a1'], { short: 50 * MB }],
  ]
  for (const [what, builds, goal, remove, { short = 0, over = 0 }] of cases) {
    const p = planPrune(builds, goal)
    t.same(p.remove.map((r) => r.name), remove, what)
    t.equal(p.shortBytes, short, `${what}: short`)
    t.equal(p.overKeep, over, `${what}: over keep`)
    t.equal(p.remove.length + p.keep.length, builds.length, `${what}: every build once`)
  }
  t.throws(() => planPrune(three, {}), { code: 'E_USAGE' })
})
