import { join } from 'node:path'
import { silentLog, toXsError, type LogFn, type OnProgress, type XsConfig, type XsError } from '@xs-rsync/core'
import { readBuildRecords, type BuildRecord } from './build-record.js'
import { gcTrees } from './gc-trees.js'
import { interruptedError } from './interrupted-error.js'
import { isServed } from './list-builds.js'
import { publishPackedInLock } from './publish-build.js'
import { publishLayout, type PublishLayout } from './publish-layout.js'
import { locatePackedBuild, scanPackedBuilds, type PackedBuild } from './read-packed-builds.js'
import { LASTING_REFUSALS, clearRefusal, readRefusal, recordRefusal } from './refused-build.js'
import { removeBuildInLock } from './remove-build.js'
import { waitWithNotice, withStoreLock, type StoreLockOptions } from './store-lock.js'
import { writeRsyncdConfInLock } from './write-rsyncd-conf.js'

export interface RefreshOptions {
  config: XsConfig
  /** Unpack every build again. */
  force?: boolean
  log?: LogFn
  onProgress?: OnProgress
  signal?: AbortSignal
  decoder?: 'auto' | 'native' | 'js'
}

export interface RefreshResult {
  published: string[]
  unchanged: string[]
  removed: string[]
  /** Builds that could not be published; what was served before stays served. */
  failed: { build: string, error: XsError }[]
  /**
   * Builds whose same tarball was refused before for what its archive holds
   * (ROOT/state/refused/NAME.json): not unpacked again, a warning each time;
   * what was served before stays served. `--force` tries them again.
   */
  refused: { build: string, code: string, message: string, refusedAt: string }[]
  ignored: string[]
  /** What the rsync config now offers. */
  offered: string[]
}

/** Is the served version of `b` exactly this tarball (cheap: stat + small files)? */
export const isUpToDate = (b: PackedBuild, rec: BuildRecord | undefined, config: XsConfig): boolean =>
  rec !== undefined &&
  rec.tarball === b.tarball.slice(b.tarball.lastIndexOf('/') + 1) &&
  rec.size === b.size && rec.mtimeMs === b.mtimeMs && rec.ino === b.ino &&
  rec.md5FileHash === b.md5FileHash && rec.contentsHash === b.contentsHash &&
  rec.md5 === b.expectedMd5 && rec.backend === config.backend

/**
 * Reconcile pub/builds with xobuilds-packed (the store lock must be held):
 * publish new builds, re-publish changed ones, remove builds whose .name or
 * tarball is gone, then regenerate the rsync config. One bad build does not
 * stop the others. Builds published by hand (`xs-rsync publish`, a record
 * with `source`) stay as they are: only `--force` (or a backend change)
 * unpacks them again, from their source; only `xs-rsync remove` removes them.
 */
export const refreshInLock = async (opts: RefreshOptions, layout: PublishLayout = publishLayout(opts.config.root)): Promise<RefreshResult> => {
  const { config } = opts
  const log = opts.log ?? silentLog
  const scan = await scanPackedBuilds(layout.packed)
  const res: RefreshResult = { published: [], unchanged: [], removed: [], failed: [], refused: [], ignored: scan.ignored, offered: [] }
  for (const f of scan.ignored) log('info', `Ignoring ${f} in ${layout.packed}: not part of a build`)
  for (const b of scan.unnamed) log('info', `Not publishing ${b} in ${layout.packed}: it has no ${b}.name`)
  for (const l of scan.leftovers) {
    log('warning', `${join(layout.packed, l.base)}: the tarball is gone, so this build is not published; ${l.files.join(', ')} ${l.files.length === 1 ? 'is' : 'are'} left over (delete ${l.files.length === 1 ? 'it' : 'them'}; "xs-rsync remove NAME" removes a build with all its files)`)
  }
  for (const f of scan.failures) {
    log('err', `Build ${f.name ?? f.base} not published: ${f.error.message}`)
    res.failed.push({ build: f.name ?? f.base, error: f.error })
  }
  const records = new Map((await readBuildRecords(layout.records)).map((r) => [r.name, r]))
  const byHand = [...records.values()].filter((r) => r.source !== undefined)
  // What an interruption leaves unpublished: those that failed, the one being
  // unpacked, and those after it whose tarball is new or changed.
  const started = new Set<string>()
  const notPublished = (): string[] => {
    const settled = new Set([...res.published, ...res.unchanged, ...res.refused.map((r) => r.build)])
    const failed = res.failed.map((f) => f.build)
    const pending = [
      ...scan.builds.filter((b) => {
        const rec = records.get(b.name)
        return (rec?.source === undefined || rec.source === b.tarball) && (opts.force === true || !isUpToDate(b, rec, config))
      }).map((b) => b.name),
      ...byHand.filter((r) => !scan.claimedNames.has(r.name) && (opts.force === true || r.backend !== config.backend)).map((r) => r.name),
    ]
    const current = [...started].filter((n) => !settled.has(n) && !failed.includes(n))
    return [...new Set([...failed, ...current, ...pending.filter((n) => !settled.has(n))])]
  }
  try {
    for (const b of scan.builds) {
      opts.signal?.throwIfAborted()
      started.add(b.name)
      const rec = records.get(b.name)
      if (rec?.source !== undefined && rec.source !== b.tarball) {
        log('warning', `Build ${b.name} was published by hand from ${rec.source}; ${b.tarball} is not published over it ("xs-rsync remove ${b.name}" first, or "xs-rsync publish" it)`)
        res.unchanged.push(b.name)
        continue
      }
      if (opts.force !== true && isUpToDate(b, rec, config) && rec !== undefined && await isServed(layout.builds, layout.trees, rec)) {
        res.unchanged.push(b.name)
        continue
      }
      const refusal = opts.force === true ? undefined : await readRefusal(layout.state, b)
      if (refusal !== undefined) {
        log('warning', `Build ${b.name}: not unpacked again: ${b.tarball} was refused on ${refusal.refusedAt} (${refusal.message}).` +
          ` Replace or remove it in ${layout.packed}${rec === undefined ? '' : '; the previous version stays available'}`)
        res.refused.push({ build: b.name, code: refusal.code, message: refusal.message, refusedAt: refusal.refusedAt })
        continue
      }
      try {
        await publishPackedInLock(layout, b, opts)
        res.published.push(b.name)
        await clearRefusal(layout.state, b.name)
      } catch (er) {
        const e = toXsError(er)
        if (opts.signal?.aborted === true) throw e
        log('err', `Build ${b.name} not published${rec === undefined ? '' : ' (the previous version stays available)'}: ${e.message}`)
        res.failed.push({ build: b.name, error: e })
        if (LASTING_REFUSALS.has(e.code)) await recordRefusal(layout.state, b, e)
      }
    }
    for (const rec of byHand) {
      if (scan.claimedNames.has(rec.name)) continue
      started.add(rec.name)
      if (opts.force !== true && rec.backend === config.backend) {
        log('info', `Build ${rec.name} was published by hand from ${rec.source}; it stays published ("xs-rsync remove ${rec.name}" removes it)`)
        res.unchanged.push(rec.name)
        continue
      }
      try {
        opts.signal?.throwIfAborted()
        await publishPackedInLock(layout, await locatePackedBuild(rec.source!, rec.name), { ...opts, source: rec.source! })
        res.published.push(rec.name)
      } catch (er) {
        const e = toXsError(er)
        if (opts.signal?.aborted === true) throw e
        log('err', `Build ${rec.name} (published by hand from ${rec.source}) not unpacked again; the previous version stays available: ${e.message}`)
        res.failed.push({ build: rec.name, error: e })
      }
    }
  } catch (er) {
    if (opts.signal?.aborted === true) throw interruptedError(opts.signal, res.published, notPublished(), er)
    throw er
  }
  const gone = [...records.values()].filter((r) => r.source === undefined && !scan.claimedNames.has(r.name)).map((r) => r.name)
  // out of the rsync config first: a run killed in between must not leave a module whose files are gone
  if (gone.length > 0) await writeRsyncdConfInLock(config, log, new Set(gone))
  for (const name of gone) {
    await removeBuildInLock(config, name, log)
    res.removed.push(name)
  }
  res.offered = await writeRsyncdConfInLock(config, log)
  // the trees of removed and replaced builds, unless a laptop is still pulling them
  await gcTrees(layout, log)
  return res
}

/** Take the store lock (waiting, with a notice) and refresh. */
export const refresh = async (opts: RefreshOptions & { lock?: Omit<StoreLockOptions, 'log'> }): Promise<RefreshResult> =>
  withStoreLock(opts.config, { ...waitWithNotice(opts.log), ...opts.lock, ...(opts.log && { log: opts.log }) },
    (layout) => refreshInLock(opts, layout))
