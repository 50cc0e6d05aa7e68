import { copyFile, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, extname, join, resolve } from 'node:path'
import { fsyncDir, silentLog, XsError, type LogFn, type OnProgress, type XsConfig } from '@xs-rsync/core'
import { readBuildRecord, readBuildRecords, writeBuildRecord, type BuildRecord } from './build-record.js'
import { interruptedError } from './interrupted-error.js'
import { newTreeId, publishLayout, treeDirName, treeLinkTarget, type PublishLayout } from './publish-layout.js'
import { locatePackedBuild, readBuildName, type PackedBuild } from './read-packed-builds.js'
import { makeStagingDir } from './staging.js'
import { waitWithNotice, withStoreLock, type StoreLockOptions } from './store-lock.js'
import { swapSymlink } from './swap-symlink.js'
import { giveToStoreOwner } from './give-to-store-owner.js'
import { ownTreeTop } from './tree-top-ownership.js'
import { md5Mismatch, unpackBuild, type UnpackOptions, type UnpackResult } from './unpack.js'
import { writeFakerootState } from './write-fakeroot-state.js'
import { writeRsyncdConfInLock } from './write-rsyncd-conf.js'

export interface PublishBuildOptions {
  config: XsConfig
  /** The build tarball; its .md5 and .contents (or .toc) are found beside it. */
  tarball: string
  /** Build NAME; default: the .name file beside the tarball. */
  name?: string
  /** Merged over the previous record's `extra` (kept when not given). */
  extra?: Record<string, unknown>
  /** Published by hand from this tarball (BuildRecord.source). */
  source?: string
  log?: LogFn
  onProgress?: OnProgress
  signal?: AbortSignal
  decoder?: 'auto' | 'native' | 'js'
  /**
   * The build already unpacked (or being unpacked) into `staging`/build by
   * `startUnpack`, e.g. while the ingest copied the tarball. It is used
   * instead of unpacking `tarball` again once its md5 is checked against
   * the build's .md5; `staging` is then this publish's to remove.
   */
  unpacked?: StartedUnpack
}

/** An unpack started ahead of its publish: its staging folder and the outcome. */
export interface StartedUnpack {
  staging: string
  result: Promise<UnpackResult>
}

/**
 * Start unpacking a build into a new staging folder of the store (for
 * `PublishBuildOptions.unpacked`). `result` never rejects unobserved: a
 * failure surfaces when the publish awaits it. The caller removes `staging`
 * when the publish does not happen.
 */
export const startUnpack = async (layout: PublishLayout, opts: Omit<UnpackOptions, 'dest'>): Promise<StartedUnpack> => {
  const staging = await makeStagingDir(layout.tmp, 'publish')
  const result = unpackBuild({ ...opts, dest: join(staging, 'build') })
  result.catch(() => { /* seen by the publish, or dropped with the staging */ })
  return { staging, result }
}

export interface PublishResult {
  record: BuildRecord
  warnings: string[]
}

/**
 * Unpack a build found by `scanPackedBuilds`/`locatePackedBuild` and make it
 * the served version of its NAME, atomically. The store lock must be held.
 * The md5 is checked over the exact bytes unpacked. On failure nothing
 * changes in what is served and staging is removed; the version tree of a
 * run killed before the symlink swap is garbage-collected by the next run.
 */
export const publishPackedInLock = async (
  layout: PublishLayout,
  build: PackedBuild,
  opts: Omit<PublishBuildOptions, 'tarball' | 'name'>,
): Promise<PublishResult> => {
  const { config, signal, decoder } = opts
  const log = opts.log ?? silentLog
  const { name } = build
  // rsync daemon module names are not case-sensitive: [build-X] and [build-x] would break each other
  const twin = (await readBuildRecords(layout.records).catch(() => [] as BuildRecord[])).find((r) => r.name !== name && r.name.toLowerCase() === name.toLowerCase())
  if (twin !== undefined) {
    throw new XsError('E_BUILD_NAME', `build name ${name} differs only in letter case from the published build ${twin.name} ` +
      '(rsync module names are not case-sensitive, so one would hide the other)', { path: build.tarball, actual: name, expected: twin.name })
  }
  const staging = opts.unpacked?.staging ?? await makeStagingDir(layout.tmp, 'publish')
  try {
    const previous = await readBuildRecord(layout.records, name)
    const dest = join(staging, 'build')
    let res: UnpackResult
    if (opts.unpacked === undefined) {
      log('info', `Unpacking build ${name} from ${build.tarball}`)
      res = await unpackBuild({
        tarball: build.tarball, dest, backend: config.backend, expectedMd5: build.expectedMd5, build: name, reserve: { bytes: config.reserveBytes },
        log, ...(opts.onProgress && { onProgress: opts.onProgress }), ...(signal && { signal }), ...(decoder && { decoder }),
      })
    } else {
      res = await opts.unpacked.result
      if (res.md5 !== build.expectedMd5) throw md5Mismatch(build.tarball, res.md5, build.expectedMd5)
    }
    for (const w of res.warnings) log('warning', `build ${name}: ${w}`)
    await copyFile(build.contentsFile, join(dest, 'contents'))
    const tree = treeDirName(name, newTreeId())
    const ownershipFile = join(layout.ownership, `${tree}${extname(res.ownership)}`)
    const topLines = await ownTreeTop(dest, config.backend)
    if (topLines === '') {
      await rename(res.ownership, ownershipFile)
    } else {
      const text = await readFile(res.ownership, 'utf8')
      await writeFile(ownershipFile, (text === '' || text.endsWith('\n') ? text : text + '\n') + topLines, { mode: 0o644 })
      await rm(res.ownership)
    }
    await fsyncDir(layout.ownership)
    // before laptops can reach it: a daemon serving as the store owner must read it all
    await giveToStoreOwner(layout.root, [dest, ownershipFile])
    await rename(dest, join(layout.trees, tree))
    await fsyncDir(layout.trees)
    // fakeroot: the state must know the new inodes before laptops can reach them
    if (config.backend === 'fakeroot') await writeFakerootState(layout)
    await swapSymlink(treeLinkTarget(tree), join(layout.builds, name))
    const extra = previous?.extra === undefined && opts.extra === undefined ? undefined : { ...previous?.extra, ...opts.extra }
    const record: BuildRecord = {
      name, tree,
      tarball: basename(build.tarball), md5: res.md5,
      size: build.size, mtimeMs: build.mtimeMs, ino: build.ino,
      md5FileHash: build.md5FileHash, contentsHash: build.contentsHash,
      entries: res.entries, bytes: res.bytes,
      publishedAt: new Date().toISOString(),
      backend: config.backend,
      ...(res.pristine !== undefined && { pristine: res.pristine }),
      ...(opts.source !== undefined && { source: opts.source }),
      ...(extra !== undefined && { extra }),
    }
    await writeBuildRecord(layout.records, record)
    log('notice', `Published build ${name} (${res.entries} entries, ${(res.bytes / 1024 / 1024).toFixed(1)} MB${res.pristine === undefined ? '' : `, pristine ${res.pristine}`})`)
    return { record, warnings: res.warnings }
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
}

/** Publish one tarball (the store lock must be held); does not rewrite the rsync config. */
export const publishBuildInLock = async (opts: PublishBuildOptions): Promise<PublishResult> =>
  publishPackedInLock(publishLayout(opts.config.root), await locatePackedBuild(opts.tarball, opts.name), opts)

/**
 * Is this a build refresh would not publish as it is: its tarball outside
 * ROOT/xobuilds-packed, or NAME not what its .name file says?
 */
const isByHand = async (layout: PublishLayout, build: PackedBuild): Promise<boolean> => {
  if (dirname(build.tarball) !== layout.packed) return true
  return (await readBuildName(build.nameFile).catch(() => undefined)) !== build.name
}

/**
 * Take the store lock, publish one tarball (by hand: `xs-rsync publish`),
 * regenerate the rsync config. A build refresh would not find as it is
 * (outside ROOT/xobuilds-packed, or under another NAME) records its source,
 * so that refresh keeps it published until `xs-rsync remove`.
 */
export const publishBuild = async (opts: PublishBuildOptions & { lock?: Omit<StoreLockOptions, 'log'> }): Promise<PublishResult> =>
  withStoreLock(opts.config, { ...waitWithNotice(opts.log), ...opts.lock, ...(opts.log && { log: opts.log }) }, async (layout) => {
    const build = await locatePackedBuild(resolve(opts.tarball), opts.name)
    const byHand = await isByHand(layout, build)
    let res: PublishResult
    try {
      res = await publishPackedInLock(layout, build, { ...opts, ...(byHand && { source: build.tarball }) })
    } catch (er) {
      if (opts.signal?.aborted === true) throw interruptedError(opts.signal, [], [build.name], er)
      throw er
    }
    await writeRsyncdConfInLock(opts.config, opts.log)
    return res
  })
