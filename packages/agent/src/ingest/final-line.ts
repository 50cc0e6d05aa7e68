import { hostname } from 'node:os'
import { availableWithUrls, listBuilds } from '@xs-rsync/publisher'
import type { SignatureChecked } from './check-signature.js'
import type { StickFilesChecked } from './check-stick-files.js'
import type { IngestContext } from './ingest-context.js'
import type { IngestResult } from './ingest-options.js'
import { listNames } from './list-names.js'
import type { BuildsPlanned } from './plan-builds.js'

type Checked = IngestContext & SignatureChecked & StickFilesChecked

const available = async (ctx: IngestContext): Promise<string[]> => (await listBuilds(ctx.config)).map((r) => r.name)

const result = (ctx: Checked, line: string, available: string[]): IngestResult => ({
  source: ctx.label, check: ctx.check, security: ctx.security, ...(ctx.signature && { signature: ctx.signature }),
  published: ctx.published, skipped: ctx.skipped, ignored: ctx.ignored, available, noBuilds: false, line,
})

/** The end of an ingest of a stick without an xs-xobuilds folder: nothing to do. */
export const endWithoutBuilds = (ctx: IngestContext): IngestResult => {
  const line = `DONE: ${ctx.label} holds no xs-xobuilds folder: no builds on this stick, nothing changed`
  ctx.log('notice', line)
  return { source: ctx.label, check: ctx.check, published: ctx.published, skipped: ctx.skipped, ignored: [], available: [], noBuilds: true, line }
}

/** The end of `ingest --check`: CHECKED, what would be published. */
export const endChecked = async (ctx: Checked & BuildsPlanned): Promise<IngestResult> => {
  ctx.published = ctx.plans.map((p) => p.name)
  const { published, skipped } = ctx
  const line = `CHECKED: ${ctx.label} is valid (${ctx.signer ?? 'unsigned'}); ${published.length === 0 ? 'nothing new to publish' : `would publish ${listNames(published)}`}` +
    `${skipped.length === 0 ? '' : ` (already published: ${listNames(skipped)})`}; nothing was changed`
  ctx.log('notice', line)
  return result(ctx, line, await available(ctx))
}

/** The end of an ingest: DONE, what laptops can now fetch and what came from this stick. */
export const endDone = async (ctx: Checked): Promise<IngestResult> => {
  const served = await available(ctx)
  const { published, skipped } = ctx
  // every build with its URL (or the listing command when there are many)
  const line = `DONE: builds now available to laptops: ${availableWithUrls(served, hostname())}` +
    `; from this stick: ${published.length === 0 ? 'nothing new' : `published ${listNames(published)}`}` +
    (skipped.length === 0 ? '' : `, already there ${listNames(skipped)}`) +
    `; the stick was ${ctx.signer ?? 'unsigned'}`
  ctx.log('notice', line)
  return result(ctx, line, served)
}
