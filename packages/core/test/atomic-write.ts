import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { atomicWrite, parseAtomicTemp, removeStaleAtomicTemps } from '../src/atomic-write.js'

t.test('parseAtomicTemp', async (t) => {
  const cases: [string, ReturnType<typeof parseAtomicTemp>][] = [
    ['.xs-rsyncd.conf.tmp-123-0a1b2c3d', { target: 'xs-rsyncd.conf', pid: 123 }],
    ['.44.json.tmp-9-ffffffff', { target: '44.json', pid: 9 }],
    ['xs-rsyncd.conf', undefined],
    ['.x.tmp-12-XYZ', undefined],
    ['.x.tmp--0a1b2c3d', undefined],
  ]
  for (const [name, want] of cases) t.same(parseAtomicTemp(name), want, name)
})

t.test('atomicWrite replaces the file and leaves no temp', async (t) => {
  const dir = t.testdir({ 'a.conf': 'old' })
  await atomicWrite(join(dir, 'a.conf'), 'new')
  t.equal(readFileSync(join(dir, 'a.conf'), 'utf8'), 'new')
  t.same(readdirSync(dir), ['a.conf'])
})

t.test('removeStaleAtomicTemps removes only the temps of dead writers', async (t) => {
  // a pid that surely is gone: a child that has exited
  const dead = spawnSync('true').pid ?? 999999
  const dir = t.testdir({
    [`.a.conf.tmp-${dead}-0a1b2c3d`]: 'x',
    [`.b.json.tmp-${dead}-0a1b2c3e`]: 'x',
    [`.a.conf.tmp-${process.pid}-0a1b2c3f`]: 'mine',
    [`.a.conf.tmp-1-0a1b2c40`]: 'pid 1 lives',
    'a.conf': 'keep',
  })
  t.same(await removeStaleAtomicTemps(dir, 'a.conf'), [`.a.conf.tmp-${dead}-0a1b2c3d`])
  t.ok(existsSync(join(dir, `.b.json.tmp-${dead}-0a1b2c3e`)), 'other targets kept when one is named')
  t.same(await removeStaleAtomicTemps(dir), [`.b.json.tmp-${dead}-0a1b2c3e`])
  t.same(readdirSync(dir).sort(), [`.a.conf.tmp-${process.pid}-0a1b2c3f`, '.a.conf.tmp-1-0a1b2c40', 'a.conf'].sort())
  writeFileSync(join(dir, 'unrelated'), '')
  t.same(await removeStaleAtomicTemps(join(dir, 'missing')), [])
})
