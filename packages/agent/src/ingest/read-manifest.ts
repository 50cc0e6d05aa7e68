import { listStickDir, readStickManifest, type StickDir, type StickManifest } from '../manifest-files.js'
import type { BuildsFolderFound } from './find-source.js'
import type { IngestContext } from './ingest-context.js'

export interface ManifestRead {
  stick: StickDir
  /** The manifest's bytes and algorithm, its signature's bytes (not yet checked). */
  manifest: StickManifest
}

/** Stage: list the builds folder and read its manifest and signature. */
export const readManifest = async <C extends IngestContext & BuildsFolderFound>(ctx: C): Promise<C & ManifestRead> => {
  const dir = ctx.source.buildsDir
  ctx.step('manifest', `in ${dir}`)
  const stick = await listStickDir(dir, ctx.source.shortNamesUpperCase)
  const manifest = await readStickManifest(stick)
  return Object.assign(ctx, { stick, manifest })
}
