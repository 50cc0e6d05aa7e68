import { checkArchives } from './ingest/check-archives.js'
import { checkFreeSpace } from './ingest/check-free-space.js'
import { checkSignature } from './ingest/check-signature.js'
import { checkStickFiles } from './ingest/check-stick-files.js'
import { copyAndVerify } from './ingest/copy-and-verify.js'
import { endChecked, endDone, endWithoutBuilds } from './ingest/final-line.js'
import { findSource, holdsBuilds } from './ingest/find-source.js'
import { inStoreLock } from './ingest/in-store-lock.js'
import { createIngestContext, type IngestContext } from './ingest/ingest-context.js'
import type { IngestOptions, IngestResult } from './ingest/ingest-options.js'
import { withIngestStaging } from './ingest/ingest-staging.js'
import { planBuilds } from './ingest/plan-builds.js'
import { publishBuilds } from './ingest/publish-builds.js'
import { readManifest } from './ingest/read-manifest.js'
import { recordFailure, recordSuccess } from './ingest/record-outcome.js'

export type { IngestOptions, IngestResult } from './ingest/ingest-options.js'

/**
 * The row of stages. Each takes the one context, checks or does one thing,
 * logs its numbered step and adds what it found to the context. Nothing is
 * written to the store before the lock is held; nothing is published before
 * every file on the stick has been verified.
 */
const stages = async (ctx: IngestContext): Promise<IngestResult> => {
  const found = await findSource(ctx) // find (and mount) the stick
  if (!holdsBuilds(found)) return endWithoutBuilds(found)
  const read = await readManifest(found) // manifest and signature files
  const signed = await checkSignature(read) // keyring, security mode, signature
  const stick = await checkStickFiles(signed) // listed files, builds, .name and .md5
  if (stick.check) {
    const planned = await planBuilds(stick) // against the published builds
    await checkFreeSpace(planned)
    await copyAndVerify(planned) // hash every listed file, copy nothing
    await checkArchives(planned) // the whole unpack path, writing nothing
    return endChecked(planned)
  }
  return inStoreLock(stick, async (locked) => {
    const planned = await planBuilds(locked)
    if (planned.plans.length === 0) {
      planned.log('notice', 'Nothing new on this stick')
    } else {
      await withIngestStaging(planned, async (staged) => { // ROOT/tmp, removed however it ends
        await checkFreeSpace(staged)
        await copyAndVerify(staged) // copy while hashing, unpack as copied
        await publishBuilds(staged) // commit each build, rsyncd.conf
      })
    }
    return endDone(planned)
  })
}

/**
 * Ingest a stick: verify it completely (manifest, signature, every listed
 * file hashed while it is copied into the store's staging), then, holding
 * the store lock, commit each new build into xobuilds-packed and publish it.
 * Logs numbered steps and one final line; throws XsError on refusal, after
 * which nothing new is published and no staging is left. `check` stops
 * after verifying and changes nothing (no lock, no files written).
 */
export const ingest = async (opts: IngestOptions): Promise<IngestResult> => {
  const ctx = createIngestContext(opts)
  try {
    return await recordSuccess(ctx, await stages(ctx))
  } catch (er) {
    throw await recordFailure(ctx, er)
  } finally {
    await ctx.source?.release()
  }
}
