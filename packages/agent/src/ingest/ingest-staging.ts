import { rm } from 'node:fs/promises'
import { XsError } from '@xs-rsync/core'
import { makeStagingDir, type PublishLayout, type StartedUnpack } from '@xs-rsync/publisher'
import type { IngestContext } from './ingest-context.js'
import type { StoreLocked } from './in-store-lock.js'

/** Where a (non-check) ingest puts what it copies and unpacks before publishing it. */
export interface IngestStaging {
  /** ROOT/tmp/ingest-XXXX: the verified copies of the stick's files. */
  dir: string
  layout: PublishLayout
  /** Unpacks started while their tarball was copied, by build name. */
  unpacks: Map<string, StartedUnpack>
  /** Stops those unpacks: the ingest's signal, or the ingest ending before they were published. */
  signal: AbortSignal
}

export interface StagingMade {
  staging: IngestStaging
}

/**
 * Run `fn` with a fresh staging folder in the store; afterwards, however `fn`
 * ended, stop the unpacks that were not published and remove all staging.
 */
export const withIngestStaging = async <C extends IngestContext & StoreLocked, T>(ctx: C, fn: (ctx: C & StagingMade) => Promise<T>): Promise<T> => {
  const dir = await makeStagingDir(ctx.layout.tmp, 'ingest')
  const unpacks = new Map<string, StartedUnpack>()
  const stopUnpacks = new AbortController()
  try {
    const signal = ctx.signal === undefined ? stopUnpacks.signal : AbortSignal.any([stopUnpacks.signal, ctx.signal])
    return await fn(Object.assign(ctx, { staging: { dir, layout: ctx.layout, unpacks, signal } }))
  } finally {
    // unpacks not published (a refusal, a failure): stop them and drop their staging
    stopUnpacks.abort(new XsError('E_INTERNAL', 'the ingest ended before this build was published'))
    for (const u of unpacks.values()) {
      await u.result.catch(() => {})
      await rm(u.staging, { recursive: true, force: true })
    }
    await rm(dir, { recursive: true, force: true })
  }
}
