import { copyFile, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { basename, extname, join } from 'node:path'
import { fsyncDir, silentLog, type LogFn, type OnProgress, type XsConfig } from '@xs-rsync/core'
import { readBuildRecord, writeBuildRecord, type BuildRecord } from './build-record.js'
import { newTreeId, publishLayout, treeDirName, treeLinkTarget, type PublishLayout } from './publish-layout.js'
import { locatePackedBuild, type PackedBuild } from './read-packed-builds.js'
import { makeStagingDir } from './staging.js'
import { waitWithNotice, withStoreLock, type StoreLockOptions } from './store-lock.js'
import { swapSymlink } from './swap-symlink.js'
import { giveToStoreOwner } from './give-to-store-owner.js'
import { ownTreeTop } from './tree-top-ownership.js'
import { unpackBuild } from './unpack.js'
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
  log?: LogFn
  onProgress?: OnProgress
  signal?: AbortSignal
  decoder?: 'auto' | 'native' | 'js'
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
  const previous = await readBuildRecord(layout.records, name)
  const staging = await makeStagingDir(layout.tmp, 'publish')
  try {
    const dest = join(staging, 'build')
    log('info', `Unpacking build ${name} from ${build.tarball}`)
    const res = await unpackBuild({
      tarball: build.tarball, dest, backend: config.backend, expectedMd5: build.expectedMd5, build: name,
      log, ...(opts.onProgress && { onProgress: opts.onProgress }), ...(signal && { signal }), ...(decoder && { decoder }),
    })
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

/** Take the store lock, publish one tarball, regenerate the rsync config. */
export const publishBuild = async (opts: PublishBuildOptions & { lock?: Omit<StoreLockOptions, 'log'> }): Promise<PublishResult> =>
  withStoreLock(opts.config, { ...waitWithNotice(opts.log), ...opts.lock, ...(opts.log && { log: opts.log }) }, async () => {
    const res = await publishBuildInLock(opts)
    await writeRsyncdConfInLock(opts.config, opts.log)
    return res
  })
