import { lstat, readdir, readlink, rename, rm, unlink } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type { LogFn } from '@xs-rsync/core'
import type { PublishLayout } from './publish-layout.js'
import { removeTree } from './remove-tree.js'
import { makeStagingDir } from './staging.js'
import { treesInUse } from './trees-in-use.js'

/** Tree directory names that pub/builds symlinks point at. */
export const referencedTrees = async (buildsDir: string): Promise<Set<string>> => {
  const used = new Set<string>()
  for (const n of await readdir(buildsDir)) {
    if (n.startsWith('.')) continue
    const p = join(buildsDir, n)
    if ((await lstat(p)).isSymbolicLink()) used.add(basename(await readlink(p)))
  }
  return used
}

/**
 * Remove version trees no published build points at, and temp symlinks left
 * by a killed run. Called with the store lock held, at the start of a run
 * (and by remove and prune once a build is unpublished). A tree a process
 * still uses (a laptop's pull: the daemon chrooted into it, or a file of it
 * open) stays, and goes with the first job that finds it unused.
 * A tree is first renamed into staging, so a kill mid-removal leaves only
 * staging behind (cleaned next time), never a half tree in pub/builds/.trees.
 */
export const gcTrees = async (layout: PublishLayout, log: LogFn): Promise<string[]> => {
  for (const n of await readdir(layout.builds)) {
    if (n.startsWith('.') && n.includes('.tmp-')) await unlink(join(layout.builds, n))
  }
  const used = await referencedTrees(layout.builds)
  const unreferenced = (await readdir(layout.trees)).filter((t) => !used.has(t)).sort()
  const busy = unreferenced.length === 0 ? new Map<string, number>() : await treesInUse(layout.trees)
  for (const [t, pid] of busy) {
    if (!used.has(t)) log('info', `Keeping the old build version ${t} for now: it is being pulled (process ${pid}); a later xs-rsync job removes it`)
  }
  const gone = unreferenced.filter((t) => !busy.has(t))
  const kept = new Set((await readdir(layout.trees)).filter((t) => used.has(t) || busy.has(t)))
  for (const f of await readdir(layout.ownership)) {
    if (!kept.has(f.replace(/\.(fattr|fakeroot)$/, ''))) await rm(join(layout.ownership, f), { force: true })
  }
  if (gone.length === 0) return gone
  const bin = await makeStagingDir(layout.tmp, 'gc')
  try {
    for (const t of gone) {
      log('info', `Removing old build version ${t}`)
      await rename(join(layout.trees, t), join(bin, t))
    }
  } finally {
    await removeTree(bin)
  }
  return gone
}
