// Crash consistency (issue 5): the real CLI is killed with SIGKILL 100
// times, half of them in `xs-rsync ingest` (a stick replacing the published
// build) and half in `xs-rsync refresh` (replacing one build and adding or
// removing another): first at every rename(2) of a run in turn (strace
// delivers the SIGKILL), then at seeded random moments spread over copy,
// commit, unpack, tree rename, symlink swap, record and config rewrite.
// After every kill a live daemon must list only complete builds, each
// pulled wholly old or wholly new; the next run must succeed and leave no
// staging. XS_CRASH_SEED reproduces a run; bench/crash.ts runs longer.
// Figures: docs/reliability.md.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { crashCampaign, haveStrace } from './lib/crash-campaign.js'

const seed = Number(process.env.XS_CRASH_SEED ?? 20261126)

t.test(`100 SIGKILLs of ingest and refresh, seed ${seed}`, async (t) => {
  // a folder of its own (not t.testdir): a concurrent run of the suite cannot pull it away mid-campaign
  const dir = mkdtempSync(join(tmpdir(), 'xs-crash-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const figures = await crashCampaign({ dir, points: 100, seed, mib: 1 })
  t.comment(JSON.stringify({ ...figures, problems: figures.problems.length }))
  t.same(figures.problems, [], 'every kill left a consistent store and the next run repaired it')
  t.equal(figures.killed, 100, `killed mid-run 100 times (${figures.points} runs: the others ended before their kill came)`)
  for (const a of [...(haveStrace() ? ['rename'] : []), 'copying', 'unpacking', 'tree', 'swap', 'config']) t.ok((figures.byAnchor[a] ?? 0) > 0, `some kills aimed at ${a}`)
  t.ok(figures.servedOld > 0 && figures.servedNew > 0, `laptops got the old (${figures.servedOld}) and the new (${figures.servedNew}) version, never a mix`)
})
