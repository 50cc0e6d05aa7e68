import { createReadStream } from 'node:fs'
import { join } from 'node:path'
import { toXsError, XsError } from '@xs-rsync/core'
import { startUnpack } from '@xs-rsync/publisher'
import type { IngestContext } from './ingest-context.js'
import type { StagingMade } from './ingest-staging.js'
import type { BuildsPlanned } from './plan-builds.js'

/**
 * A stick is all or nothing: every planned build is unpacked (and its md5
 * and every archive entry checked) into the store's staging before the first
 * one is committed. A tarball not unpacked while it was copied is unpacked
 * now from its verified copy in staging (named as the stick's file in
 * messages), one at a time. The first refusal stops here, with nothing of the
 * stick published; the unpacks are then dropped with the staging.
 */
export const unpackAll = async <C extends IngestContext & BuildsPlanned & StagingMade>(ctx: C): Promise<C> => {
  const { log, plans, staging } = ctx
  for (const p of plans) {
    let u = staging.unpacks.get(p.name)
    if (u === undefined) {
      log('info', `Unpacking build ${p.name} from ${p.tarball.path} (its verified copy)`)
      u = await startUnpack(staging.layout, {
        tarball: p.tarball.path, source: { stream: createReadStream(join(staging.dir, p.tarball.name)), size: p.tarball.size },
        backend: ctx.config.backend, reserve: { bytes: ctx.config.reserveBytes }, expectedMd5: p.expectedMd5, build: p.name, log, signal: staging.signal, onProgress: ctx.onProgress,
      })
      staging.unpacks.set(p.name, u)
    }
    try {
      await u.result
    } catch (er) {
      const e = toXsError(er)
      throw new XsError(e.code, `${e.message}; build ${p.name} is refused, so nothing from this stick was published`,
        { ...(e.path !== undefined && { path: e.path }), ...(e.entry !== undefined && { entry: e.entry }), cause: e })
    }
  }
  return ctx
}
