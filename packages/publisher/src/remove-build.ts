import { readdir, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { fsyncDir, silentLog, type LogFn, type XsConfig } from '@xs-rsync/core'
import { checkBuildName } from './build-name.js'
import { readBuildRecord, removeBuildRecord, type BuildRecord } from './build-record.js'
import { gcTrees } from './gc-trees.js'
import { groupPackedBuilds } from './group-packed-builds.js'
import { noSuchBuild } from './no-such-build.js'
import { publishLayout, type PublishLayout } from './publish-layout.js'
import { readBuildName } from './read-packed-builds.js'
import { forgetRemovedRecord, readRemovedRecord, writeRemovedRecord } from './removed-record.js'
import { waitWithNotice, withStoreLock, type StoreLockOptions } from './store-lock.js'
import { writeRsyncdConfInLock } from './write-rsyncd-conf.js'

/**
 * Stop publishing NAME (the store lock must be held): what is kept for replay
 * protection is written first (ROOT/state/removed/NAME.json), then its
 * symlink and record go; its version tree is removed by garbage collection
 * once no laptop pulls it. Does not rewrite the rsync config: take NAME out
 * of it first (writeRsyncdConfInLock's `without`), or a run killed in
 * between leaves a module whose path is gone.
 */
export const removeBuildInLock = async (config: XsConfig, name: string, log: LogFn = silentLog): Promise<void> => {
  const layout = publishLayout(config.root)
  const rec = await readBuildRecord(layout.records, name)
  if (rec !== undefined) await writeRemovedRecord(layout.state, { record: rec, removedAt: new Date().toISOString() })
  await unlink(join(layout.builds, name)).catch((er: NodeJS.ErrnoException) => {
    if (er.code !== 'ENOENT') throw er
  })
  await fsyncDir(layout.builds)
  await removeBuildRecord(layout.records, name)
  log('notice', `Removed build ${name}`)
}

/**
 * The files in xobuilds-packed that make build `rec`: every group whose .name
 * says its NAME, and a group without a readable .name holding its tarball.
 * None for a build published by hand (`rec.source`): those files are not
 * the store's.
 */
export const packedFilesOf = async (layout: PublishLayout, rec: BuildRecord): Promise<string[]> => {
  if (rec.source !== undefined) return []
  const { groups } = groupPackedBuilds(await readdir(layout.packed))
  const files: string[] = []
  for (const g of groups) {
    const named = g.name === undefined ? undefined : await readBuildName(join(layout.packed, g.name)).catch(() => undefined)
    if (named === rec.name || (named === undefined && g.tarball === rec.tarball)) {
      for (const f of [g.tarball, g.md5, g.contents, g.name]) if (f !== undefined) files.push(f)
    }
  }
  return files
}

export interface RemoveBuildsOptions {
  config: XsConfig
  names: readonly string[]
  /** Also drop what is kept of each NAME for replay protection (a NAME already removed may be given). */
  forget?: boolean
  log?: LogFn
  lock?: Omit<StoreLockOptions, 'log'>
}

export interface RemoveBuildsResult {
  removed: { name: string, files: string[], source?: string }[]
  /** Names whose replay protection was dropped (--forget). */
  forgotten: string[]
  /** Version trees still being pulled: a later job removes them. */
  treesLeft: string[]
  /** What the rsync config now offers. */
  offered: string[]
}

/**
 * Remove published builds (the store lock must be held): every NAME is
 * checked first (E_NO_BUILD, nothing changed); then the rsync config stops
 * offering them, their files in xobuilds-packed go (so no refresh publishes
 * them again), then their records and symlinks (replay protection kept,
 * unless `forget`), then every tree no laptop is pulling.
 */
export const removeBuildsInLock = async (opts: RemoveBuildsOptions, layout: PublishLayout = publishLayout(opts.config.root)): Promise<RemoveBuildsResult> => {
  const log = opts.log ?? silentLog
  const res: RemoveBuildsResult = { removed: [], forgotten: [], treesLeft: [], offered: [] }
  const recs: BuildRecord[] = []
  for (const name of new Set(opts.names)) {
    checkBuildName(name, 'build name')
    const rec = await readBuildRecord(layout.records, name)
    if (rec !== undefined) recs.push(rec)
    else if (opts.forget !== true || await readRemovedRecord(layout.state, name) === undefined) {
      throw await noSuchBuild(opts.config, name, opts.forget === true ? ' and nothing kept of a removed one' : '')
    }
  }
  if (recs.length > 0) await writeRsyncdConfInLock(opts.config, log, new Set(recs.map((r) => r.name)))
  for (const rec of recs) {
    const files = await packedFilesOf(layout, rec)
    for (const f of files) {
      await unlink(join(layout.packed, f)).catch((er: NodeJS.ErrnoException) => { if (er.code !== 'ENOENT') throw er })
    }
    if (files.length > 0) {
      await fsyncDir(layout.packed)
      log('info', `Deleted ${files.join(', ')} from ${layout.packed}`)
    }
    if (rec.source !== undefined) log('info', `Build ${rec.name} was published by hand from ${rec.source}; that file is left where it is`)
    await removeBuildInLock(opts.config, rec.name, log)
    res.removed.push({ name: rec.name, files, ...(rec.source !== undefined && { source: rec.source }) })
  }
  for (const name of opts.forget === true ? new Set(opts.names) : []) {
    if (await forgetRemovedRecord(layout.state, name)) {
      log('notice', `Forgot build ${name}: a stick holding it may publish it again`)
      res.forgotten.push(name)
    }
  }
  await gcTrees(layout, log)
  const left = new Set(await readdir(layout.trees))
  res.treesLeft = recs.map((r) => r.tree).filter((t) => left.has(t))
  res.offered = await writeRsyncdConfInLock(opts.config, log)
  return res
}

/** Take the store lock (waiting, with a notice) and remove builds. */
export const removeBuilds = async (opts: RemoveBuildsOptions): Promise<RemoveBuildsResult> =>
  withStoreLock(opts.config, { ...waitWithNotice(opts.log), ...opts.lock, ...(opts.log && { log: opts.log }) },
    (layout) => removeBuildsInLock(opts, layout))
