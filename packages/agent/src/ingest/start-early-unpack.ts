import { startUnpack } from '@xs-rsync/publisher'
import { CopyFollower } from '../follow-copy.js'
import type { StickFile } from '../manifest-files.js'
import type { IngestContext } from './ingest-context.js'
import type { IngestStaging } from './ingest-staging.js'
import type { StickBuild } from './stick-builds.js'

/**
 * Start unpacking `plan`'s tarball into the store's staging while it is
 * copied to `dest`: the unpack reads back the copy (never the stick) through
 * the returned follower, which the copier feeds. Published only once every
 * file is verified; `ended` settles when the unpack does.
 */
export const startEarlyUnpack = async (
  ctx: IngestContext, staging: IngestStaging, plan: StickBuild, file: StickFile, dest: string,
): Promise<{ follower: CopyFollower, ended: Promise<unknown> }> => {
  const follower = new CopyFollower(dest)
  ctx.log('info', `Unpacking build ${plan.name} from ${file.path} as it is copied`)
  const started = await startUnpack(staging.layout, {
    // the bytes are the stick file's (the verified copy): messages name that file, not ROOT/tmp
    tarball: file.path, source: { stream: follower.stream(), size: file.size }, backend: ctx.config.backend, reserve: { bytes: ctx.config.reserveBytes },
    expectedMd5: plan.expectedMd5, build: plan.name, log: ctx.log, signal: staging.signal, onProgress: ctx.onProgress,
  })
  staging.unpacks.set(plan.name, started)
  return { follower, ended: started.result }
}
