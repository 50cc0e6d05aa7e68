import { listStickDir, readStickManifests, type StickDir, type StickManifest } from '../manifest-files.js'
import type { BuildsFolderFound } from './find-source.js'
import type { IngestContext } from './ingest-context.js'

export interface ManifestRead {
  stick: StickDir
  /** Every manifest on the stick, sha256 first: bytes, algorithm, signature bytes (not yet checked). */
  manifests: StickManifest[]
}

/** Stage: list the builds folder and read its manifests and signatures. */
export const readManifest = async <C extends IngestContext & BuildsFolderFound>(ctx: C): Promise<C & ManifestRead> => {
  const dir = ctx.source.buildsDir
  ctx.step('manifest', `in ${dir}`)
  const stick = await listStickDir(dir, ctx.source.shortNamesUpperCase)
  const manifests = await readStickManifests(stick)
  return Object.assign(ctx, { stick, manifests })
}
