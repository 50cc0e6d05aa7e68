import { toXsError, XsError } from '@xs-rsync/core'
import { writeRsyncdConfInLock } from '@xs-rsync/publisher'
import type { IngestRecord } from '../replay-record.js'
import type { SignatureChecked } from './check-signature.js'
import { commitAndPublish } from './commit-and-publish.js'
import type { IngestContext } from './ingest-context.js'
import type { StagingMade } from './ingest-staging.js'
import { listNames } from './list-names.js'
import type { BuildsPlanned } from './plan-builds.js'
import type { ManifestRead } from './read-manifest.js'
import { unpackAll } from './unpack-all.js'

/**
 * Stage: unpack and check every planned build first (unpack-all.ts: one
 * refused build refuses the stick, nothing published), then commit and
 * publish each (a failure there, such as a write error, does not stop the
 * others), then write the rsync configuration; throws the first failure,
 * naming what was published anyway.
 */
export const publishBuilds = async <C extends IngestContext & ManifestRead & SignatureChecked & BuildsPlanned & StagingMade>(ctx: C): Promise<C> => {
  const { log, plans, signature } = ctx
  ctx.step('publish', listNames(plans.map((p) => p.name)))
  await unpackAll(ctx)
  let failure: XsError | undefined
  for (const p of plans) {
    const rec: IngestRecord = {
      signedAt: signature?.created.toISOString() ?? null,
      signedBy: signature?.fingerprint ?? null,
      signerUserID: signature?.userID ?? null,
      manifest: ctx.manifest.algo,
      tarballHash: p.tarball.hash,
      source: ctx.label,
      ingestedAt: new Date().toISOString(),
    }
    try {
      await commitAndPublish(ctx, ctx.staging, p, rec)
      ctx.published.push(p.name)
    } catch (er) {
      const e = toXsError(er)
      log('err', `Build ${p.name} was not published: ${e.message}`)
      failure ??= e
    }
  }
  if (ctx.published.length > 0) await writeRsyncdConfInLock(ctx.config, log)
  if (failure !== undefined) {
    throw new XsError(failure.code, `${failure.message}${ctx.published.length === 0 ? '' : ` (published anyway: ${listNames(ctx.published)})`}`,
      { ...(failure.path !== undefined && { path: failure.path }), cause: failure })
  }
  return ctx
}
