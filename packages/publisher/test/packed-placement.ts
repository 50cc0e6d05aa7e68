import t, { type Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DEFAULT_CONFIG, type XsConfig } from '@xs-rsync/core'
import { parsePlacement, placePackedFiles, recoverPlacement, type Placement } from '../src/packed-placement.js'
import { publishLayout, type PublishLayout } from '../src/publish-layout.js'
import { withStoreLock, ensureStore } from '../src/store-lock.js'

const OLD = ['b-tree.tar.xz', 'b-tree.tar.xz.md5', 'b.contents', 'b.name', 'b.toc']
const MINE = ['b-tree.tar.xz', 'b-tree.tar.xz.md5', 'b.contents', 'b.name']

/** A store whose xobuilds-packed holds build b's older files ("old <name>"), and a staging folder with its new ones ("new <name>"). */
const setup = async (t: Test): Promise<{ config: XsConfig, layout: PublishLayout, staging: string, opts: Omit<Placement, 'direction'> }> => {
  const dir = t.testdir({})
  const config: XsConfig = { ...DEFAULT_CONFIG, root: join(dir, 'store'), rsyncdConf: join(dir, 'rsyncd.conf'), rsyncdTemplate: join(dir, 'none') }
  const layout = publishLayout(config.root)
  await ensureStore(layout)
  // a dead pid names the staging, as a killed run leaves it
  const dead = spawnSync('true').pid ?? 999999
  const staging = join(layout.tmp, `ingest.${dead}.AbCdEf`)
  mkdirSync(staging)
  for (const f of OLD) writeFileSync(join(layout.packed, f), `old ${f}`)
  for (const f of MINE) writeFileSync(join(staging, f), `new ${f}`)
  writeFileSync(join(layout.packed, 'other.name'), 'another build')
  return { config, layout, staging, opts: { name: 'b', from: staging, mine: MINE, aside: join(staging, 'old-b'), old: OLD } }
}

const packed = (layout: PublishLayout): Record<string, string> =>
  Object.fromEntries(readdirSync(layout.packed).sort().map((f) => [f, readFileSync(join(layout.packed, f), 'utf8')]))

const allOld = Object.fromEntries([...OLD.map((f) => [f, `old ${f}`]), ['other.name', 'another build']].sort())
const allNew = Object.fromEntries([...MINE.map((f) => [f, `new ${f}`]), ['other.name', 'another build']].sort())

t.test('parsePlacement', async (t) => {
  const good = { direction: 'forward', name: 'b', from: '/s/tmp/x', mine: ['a'], aside: '/s/tmp/x/old', old: [] }
  t.same(parsePlacement(JSON.stringify(good), 'j', '/s/tmp'), good)
  const bad: Array<[string, unknown]> = [
    ['not JSON', '{'], ['direction', { ...good, direction: 'sideways' }], ['relative from', { ...good, from: 'tmp/x' }],
    ['a path as a name', { ...good, mine: ['../etc/passwd'] }], ['a slash in a name', { ...good, old: ['a/b'] }],
    ['names not a list', { ...good, mine: 'a' }], ['no name', { ...good, name: 1 }], ['null', null],
    ['from outside tmp', { ...good, from: '/etc' }], ['aside outside tmp', { ...good, aside: '/s/tmpx/old' }],
    ['tmp itself', { ...good, from: '/s/tmp' }], ['.. out of tmp', { ...good, aside: '/s/tmp/../etc' }],
  ]
  for (const [what, o] of bad) t.throws(() => parsePlacement(typeof o === 'string' ? o : JSON.stringify(o), 'j', '/s/tmp'), { code: 'E_CONFIG', message: /^j: / }, what)
})

t.test('a placement that stays: the new files replace the old, the journal is gone', async (t) => {
  const { layout, opts } = await setup(t)
  const p = await placePackedFiles(layout, opts)
  t.ok(existsSync(join(layout.state, 'placing.json')), 'journalled until done')
  t.same(packed(layout), allNew, 'only the new build\'s files (b.toc, which it does not have, is gone)')
  await p.done()
  t.notOk(existsSync(join(layout.state, 'placing.json')))
})

t.test('undo puts every older file back and removes the new ones', async (t) => {
  const { layout, opts } = await setup(t)
  const p = await placePackedFiles(layout, opts)
  await p.undo()
  t.same(packed(layout), allOld)
  t.notOk(existsSync(join(layout.state, 'placing.json')))
})

t.test('a job killed half-way through moving the files in: the next job finishes the move', async (t) => {
  const { config, layout, staging, opts } = await setup(t)
  // what placePackedFiles had done when the kill came: older files linked aside, journal written, two files moved
  mkdirSync(opts.aside)
  for (const f of OLD) linkSync(join(layout.packed, f), join(opts.aside, f))
  writeFileSync(join(layout.state, 'placing.json'), JSON.stringify({ direction: 'forward', ...opts }))
  for (const f of MINE.slice(0, 2)) renameSync(join(staging, f), join(layout.packed, f))
  t.not(packed(layout)['b.contents'], 'new b.contents', 'the folder is a mix now')
  const lines: string[] = []
  await withStoreLock(config, { wait: false, log: (_l, m) => lines.push(m) }, async () => {})
  t.same(packed(layout), allNew, 'all new files, none of the old')
  t.notOk(existsSync(join(layout.state, 'placing.json')), 'journal removed')
  t.notOk(existsSync(staging), 'then the dead run\'s staging is removed')
  t.match(lines.join('\n'), /Finishing the placement of build b/)
})

t.test('a job killed half-way through putting the older files back: the next job finishes that', async (t) => {
  const { config, layout, staging, opts } = await setup(t)
  mkdirSync(opts.aside)
  for (const f of OLD) linkSync(join(layout.packed, f), join(opts.aside, f))
  for (const f of MINE) renameSync(join(staging, f), join(layout.packed, f))
  writeFileSync(join(layout.state, 'placing.json'), JSON.stringify({ direction: 'back', ...opts }))
  for (const f of OLD.slice(0, 3)) renameSync(join(opts.aside, f), join(layout.packed, f))
  await withStoreLock(config, { wait: false }, async () => {})
  t.same(packed(layout), allOld)
  t.notOk(existsSync(join(layout.state, 'placing.json')))
})

t.test('recovery is idempotent: run twice from the same journal (killed in recovery)', async (t) => {
  for (const direction of ['forward', 'back'] as const) {
    const { layout, staging, opts } = await setup(t)
    mkdirSync(opts.aside)
    for (const f of OLD) linkSync(join(layout.packed, f), join(opts.aside, f))
    for (const f of MINE.slice(0, 1)) renameSync(join(staging, f), join(layout.packed, f))
    const journal = JSON.stringify({ direction, ...opts })
    writeFileSync(join(layout.state, 'placing.json'), journal)
    await recoverPlacement(layout)
    writeFileSync(join(layout.state, 'placing.json'), journal)
    await recoverPlacement(layout)
    t.same(packed(layout), direction === 'forward' ? allNew : allOld, direction)
  }
})

t.test('a journal naming folders outside the store\'s tmp is refused, and nothing is moved', async (t) => {
  const { config, layout, opts } = await setup(t)
  writeFileSync(join(layout.state, 'placing.json'), JSON.stringify({ direction: 'forward', ...opts, from: '/etc' }))
  await t.rejects(withStoreLock(config, { wait: false }, async () => {}), { code: 'E_CONFIG', message: /placing\.json: names folders outside .*remove/ })
  t.same(packed(layout), allOld)
})
