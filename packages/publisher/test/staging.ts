import t from 'tap'
import { mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { cleanStaleStaging, makeStagingDir, staleStaging } from '../src/staging.js'

t.test('stale staging: only our naming, only dead pids', async (t) => {
  const alive = (pid: number): boolean => pid === 10
  t.same(staleStaging(['publish.10.abcDEF', 'publish.11.abc123', 'ingest.12.xyzXYZ', 'gc.13.aaaaaa', 'other', 'publish.x.abcdef', 'publish.14.ab'], alive),
    ['publish.11.abc123', 'ingest.12.xyzXYZ', 'gc.13.aaaaaa'])
})

t.test('clean removes dead-process staging, keeps ours and foreign entries', async (t) => {
  const dir = t.testdir({ 'publish.999999999.abcdef': { 'x': 'y' }, 'keep-me': {} })
  const mine = await makeStagingDir(dir, 'publish')
  await mkdir(join(mine, 'build'))
  await cleanStaleStaging(dir, () => {})
  t.same((await readdir(dir)).sort(), ['keep-me', mine.slice(dir.length + 1)].sort())
})
