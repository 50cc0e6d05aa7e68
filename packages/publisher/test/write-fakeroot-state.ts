import t, { type Test } from 'tap'
import { mkdirSync, readFileSync, statSync, utimesSync, writeFileSync, existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { publishLayout } from '../src/publish-layout.js'
import { writeFakerootState } from '../src/write-fakeroot-state.js'

/** A store with trees `names` in pub/builds/.trees and their fakeroot parts as given. */
const store = (t: Test, parts: Record<string, string | undefined>): ReturnType<typeof publishLayout> => {
  const root = t.testdir({})
  const layout = publishLayout(root)
  mkdirSync(layout.trees, { recursive: true })
  mkdirSync(layout.ownership, { recursive: true })
  for (const [tree, text] of Object.entries(parts)) {
    mkdirSync(join(layout.trees, tree))
    if (text !== undefined) writeFileSync(join(layout.ownership, `${tree}.fakeroot`), text)
  }
  return layout
}

const L1 = 'dev=803,ino=12,mode=40755,uid=0,gid=0,nlink=2,rdev=0\n'
const L2 = 'dev=803,ino=13,mode=100644,uid=0,gid=0,nlink=1,rdev=0' // no newline at the end
const L3 = 'dev=803,ino=14,mode=104755,uid=0,gid=0,nlink=1,rdev=0\n'

t.test('the parts in tree order, each ending in a newline; empty and missing parts left out', async (t) => {
  const layout = store(t, { 'b@2': L3, 'a@1': L1 + L2, 'c@3': '', 'd@4': undefined })
  await writeFakerootState(layout)
  t.equal(readFileSync(layout.fakerootState, 'utf8'), L1 + L2 + '\n' + L3)
  t.ok(existsSync(`${layout.fakerootState}.parts`), 'the stamp is written beside it')
})

t.test('nothing changed: the combined file is left alone and no part is read', async (t) => {
  const layout = store(t, { 'a@1': L1, 'b@2': L3 })
  const part = join(layout.ownership, 'a@1.fakeroot')
  utimesSync(part, 1_700_000_000, 1_700_000_000) // a whole second, so it can be set back exactly
  await writeFakerootState(layout)
  const before = statSync(layout.fakerootState, { bigint: true })
  // same inode, size and mtime, other bytes: only a read of the part could notice
  writeFileSync(part, L1.replace('ino=12', 'ino=99'))
  utimesSync(part, 1_700_000_000, 1_700_000_000)
  await writeFakerootState(layout)
  const after = statSync(layout.fakerootState, { bigint: true })
  t.equal(after.ino, before.ino, 'not replaced')
  t.equal(after.mtimeNs, before.mtimeNs, 'not touched: serve does not restart the daemon')
  t.equal(readFileSync(layout.fakerootState, 'utf8'), L1 + L3, 'the part was not read')
})

t.test('a part that changed, a tree added or removed, or the combined file gone: rewritten', async (t) => {
  const layout = store(t, { 'a@1': L1 })
  await writeFakerootState(layout)
  writeFileSync(join(layout.ownership, 'a@1.fakeroot'), L1 + L3)
  await writeFakerootState(layout)
  t.equal(readFileSync(layout.fakerootState, 'utf8'), L1 + L3, 'a changed part')
  mkdirSync(join(layout.trees, 'b@2'))
  writeFileSync(join(layout.ownership, 'b@2.fakeroot'), L2)
  await writeFakerootState(layout)
  t.equal(readFileSync(layout.fakerootState, 'utf8'), L1 + L3 + L2 + '\n', 'a tree added')
  rmSync(join(layout.trees, 'a@1'), { recursive: true })
  await writeFakerootState(layout)
  t.equal(readFileSync(layout.fakerootState, 'utf8'), L2 + '\n', 'a tree removed')
  rmSync(layout.fakerootState)
  await writeFakerootState(layout)
  t.equal(readFileSync(layout.fakerootState, 'utf8'), L2 + '\n', 'the combined file gone')
})

t.test('a stale stamp with the right content: the combined file is kept as it is (no daemon restart)', async (t) => {
  const layout = store(t, { 'a@1': L1 })
  await writeFakerootState(layout)
  const before = statSync(layout.fakerootState, { bigint: true })
  writeFileSync(`${layout.fakerootState}.parts`, 'stale\n')
  await writeFakerootState(layout)
  const after = statSync(layout.fakerootState, { bigint: true })
  t.equal(after.ino, before.ino)
  t.equal(after.mtimeNs, before.mtimeNs)
  t.not(readFileSync(`${layout.fakerootState}.parts`, 'utf8'), 'stale\n', 'the stamp is mended')
})
