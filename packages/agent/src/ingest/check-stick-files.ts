import { parseManifest } from '../manifest.js'
import { statListedFiles, type StickFile } from '../manifest-files.js'
import type { BuildsFolderFound } from './find-source.js'
import type { IngestContext } from './ingest-context.js'
import { listNames } from './list-names.js'
import type { ManifestRead } from './read-manifest.js'
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

/** Stage: parse the (now trusted) manifest, check the listed files on the stick, group them into builds. */
export const checkStickFiles = async <C extends IngestContext & BuildsFolderFound & ManifestRead>(ctx: C): Promise<C & StickFilesChecked> => {
  const { manifest: m, log } = ctx
  ctx.step('files')
  const entries = parseManifest(m.manifest.bytes, m.algo, m.manifest.path)
  const { files, ignored } = await statListedFiles(ctx.stick, entries, log)
  const { builds, extras } = await stickBuilds(files, m.algo, ctx.source.buildsDir, ctx.signal)
  log('info', `The stick holds build${builds.length === 1 ? '' : 's'} ${listNames(builds.map((b) => b.name))}`)
  return Object.assign(ctx, { files, ignored, builds, extras })
}
