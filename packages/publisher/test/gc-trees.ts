import t from 'tap'
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gcTrees } from '../src/gc-trees.js'
import { publishLayout } from '../src/publish-layout.js'
import { ensureStore } from '../src/store-lock.js'

t.test('unreferenced trees, their ownership data and stale temp links are removed', async (t) => {
  const layout = publishLayout(t.testdir({}))
  await ensureStore(layout)
  for (const tree of ['44@1', '44@2', '45@1', '46@1']) {
    mkdirSync(join(layout.trees, tree, 'root', 'etc'), { recursive: true, mode: 0o700 })
    writeFileSync(join(layout.ownership, `${tree}.fattr`), '')
  }
  symlinkSync('.trees/44@2', join(layout.builds, '44'))
  symlinkSync('.trees/45@1', join(layout.builds, '45'))
  symlinkSync('.trees/46@1', join(layout.builds, '.46.tmp-1-abcd'))
  const logs: string[] = []
  t.same(await gcTrees(layout, (_, m) => logs.push(m)), ['44@1', '46@1'])
  t.same(readdirSync(layout.trees).sort(), ['44@2', '45@1'])
  t.same(readdirSync(layout.ownership).sort(), ['44@2.fattr', '45@1.fattr'])
  t.same(readdirSync(layout.builds).sort(), ['.trees', '44', '45'])
  t.same(readdirSync(layout.tmp), [], 'nothing left in staging')
  t.match(logs, [/Removing old build version 44@1/, /Removing old build version 46@1/])
})
