import t from 'tap'
import { readdirSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'
import { swapSymlink } from '../src/swap-symlink.js'

t.test('creates, then replaces a symlink, leaving no temp names', async (t) => {
  const dir = t.testdir({})
  const link = join(dir, '44')
  await swapSymlink('.trees/44@1', link)
  t.equal(readlinkSync(link), '.trees/44@1')
  await swapSymlink('.trees/44@2', link)
  t.equal(readlinkSync(link), '.trees/44@2')
  t.same(readdirSync(dir), ['44'])
})

t.test('a failed swap leaves the old link and no temp name', async (t) => {
  const dir = t.testdir({ '44': {} })
  await t.rejects(swapSymlink('.trees/x', join(dir, '44')), { code: 'EISDIR' })
  t.same(readdirSync(dir), ['44'])
})
