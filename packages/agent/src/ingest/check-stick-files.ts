import { statListedFiles, type StickFile } from '../manifest-files.js'
import type { BuildsFolderFound } from './find-source.js'
import type { IngestContext } from './ingest-context.js'
import { listNames } from './list-names.js'
import type { ManifestRead } from './read-manifest.js'
import type { SignatureChecked } from './check-signature.js'
import { stickBuilds, type StickBuild } from './stick-builds.js'

export interface StickFilesChecked {
  /** Every file the manifest lists, checked on the stick (lstat). */
  files: StickFile[]
  /** Files in the stick folder not listed in the manifest: never read. */
  ignored: string[]
  /** The complete builds on the stick, their .name and .md5 read and verified. */
  builds: StickBuild[]
  /** Listed files that belong to no build: hashed, never copied. */
  extras: StickFile[]
}

/**
 * Stage: check the files the (now trusted) manifest lists on the stick, each
 * with what the other manifests say about it, and group them into builds.
 */
export const checkStickFiles = async <C extends IngestContext & BuildsFolderFound & ManifestRead & SignatureChecked>(ctx: C): Promise<C & StickFilesChecked> => {
  const { manifest: m, log } = ctx
  ctx.step('files')
  const listed = await statListedFiles(ctx.stick, ctx.entries, log)
  const ignored = listed.ignored
  const files = listed.files.map((f) => { const also = ctx.alsoListed.get(f.name); return also === undefined ? f : { ...f, also } })
  const { builds, extras } = await stickBuilds(files, m.algo, ctx.source.buildsDir, ctx.signal)
  log('info', `The stick holds build${builds.length === 1 ? '' : 's'} ${listNames(builds.map((b) => b.name))}`)
  return Object.assign(ctx, { files, ignored, builds, extras })
}
