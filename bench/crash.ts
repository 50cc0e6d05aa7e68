/**
 * Crash consistency, long run (on demand):
 *   node --import tsx bench/crash.ts [KILLS=400] [SEED=1] [MIB=8]
 * SIGKILLs `xs-rsync ingest` and `xs-rsync refresh` KILLS times: at every
 * rename(2) of a run (strace), then at seeded random moments
 * (test/lib/crash-campaign.ts; the CI test does 100 on 1 MiB builds)
 * and checks after each kill and after the next run. Prints one line per
 * point and the figures; writes bench/out/crash.json. Exit 1 on any problem.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { crashCampaign } from '../test/lib/crash-campaign.js'

const [points = 400, seed = 1, mib = 8] = process.argv.slice(2).map(Number)
const dir = await mkdtemp(join(tmpdir(), 'xs-crash-'))
try {
  const figures = await crashCampaign({ dir, points, seed, mib, say: (l) => console.log(l) })
  console.log(JSON.stringify(figures, null, 2))
  const out = fileURLToPath(new URL('out', import.meta.url))
  await mkdir(out, { recursive: true })
  await writeFile(join(out, 'crash.json'), JSON.stringify({ when: new Date().toISOString(), mib, ...figures }, null, 2) + '\n')
  process.exitCode = figures.problems.length === 0 ? 0 : 1
} finally {
  await rm(dir, { recursive: true, force: true })
}
