import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gcTrees } from '../src/gc-trees.js'
import { publishLayout } from '../src/publish-layout.js'
import { ensureStore } from '../src/store-lock.js'
import { treeOfPath, treesInUse } from '../src/trees-in-use.js'

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

t.test('a tree a process uses (working folder or open file) is kept until it is no longer used', async (t) => {
  const layout = publishLayout(t.testdir({}))
  await ensureStore(layout)
  for (const tree of ['44@1', '44@2', '45@1']) {
    mkdirSync(join(layout.trees, tree, 'root', 'etc'), { recursive: true, mode: 0o700 })
    writeFileSync(join(layout.trees, tree, 'root', 'etc', 'f'), 'x')
  }
  symlinkSync('.trees/44@2', join(layout.builds, '44'))
  // a stand-in for a laptop's pull: a process working in 44@1, another holding a file of 45@1 open
  const inTree = spawn('sleep', ['60'], { cwd: join(layout.trees, '44@1', 'root'), stdio: 'ignore' })
  const holding = spawn('sh', ['-c', 'exec sleep 60 < "$0"', join(layout.trees, '45@1', 'root', 'etc', 'f')], { stdio: 'ignore' })
  t.teardown(() => { inTree.kill(); holding.kill() })
  await new Promise((resolve) => setTimeout(resolve, 300))
  const used = await treesInUse(layout.trees)
  t.equal(used.get('44@1'), inTree.pid)
  t.equal(used.get('45@1'), holding.pid)
  const logs: string[] = []
  t.same(await gcTrees(layout, (_, m) => logs.push(m)), [], 'nothing removed while pulled')
  t.same(readdirSync(layout.trees).sort(), ['44@1', '44@2', '45@1'])
  t.match(logs.join('\n'), /Keeping the old build version 44@1 for now: it is being pulled \(process \d+\)/)
  inTree.kill()
  holding.kill()
  await Promise.all([once(inTree, 'exit'), once(holding, 'exit')])
  t.same(await gcTrees(layout, () => {}), ['44@1', '45@1'], 'removed once the pulls ended')
  t.same(readdirSync(layout.trees), ['44@2'])
})

t.test('treeOfPath: which tree a /proc link points into', async (t) => {
  const cases: [string, string | undefined][] = [
    ['/s/pub/builds/.trees/44@1', '44@1'],
    ['/s/pub/builds/.trees/44@1/root/etc/f', '44@1'],
    ['/s/pub/builds/.trees/44@1/root/etc/f (deleted)', undefined],
    ['/s/pub/builds/.trees', undefined],
    ['/s/pub/builds/.trees/', undefined],
    ['/s/pub/builds/.treesX/44@1', undefined],
    ['/s/pub/builds/44', undefined],
    ['socket:[1234]', undefined],
  ]
  for (const [p, want] of cases) t.equal(treeOfPath('/s/pub/builds/.trees', p), want, p)
})
