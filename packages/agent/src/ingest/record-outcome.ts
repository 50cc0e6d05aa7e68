import { describeError, toXsError, XsError } from '@xs-rsync/core'
import type { IngestContext } from './ingest-context.js'
import type { IngestResult } from './ingest-options.js'
import { listNames } from './list-names.js'

/** The ingest ended well: the status file's last result says so. */
export const recordSuccess = async (ctx: IngestContext, result: IngestResult): Promise<IngestResult> => {
  const sig = result.signature
  await ctx.status?.finish({
    finishedAt: new Date().toISOString(), source: ctx.label, ok: true, published: ctx.published, skipped: ctx.skipped, line: result.line,
    ...(ctx.signer !== undefined && { signer: ctx.signer, signedBy: sig === undefined ? null : { fingerprint: sig.fingerprint, userID: sig.userID } }),
  })
  return result
}

/**
 * The ingest failed with `er`: the error to throw (a stop through the
 * signal, once the stick was found, reads as the stick changing), recorded
 * as the status file's last result.
 */
export const recordFailure = async (ctx: IngestContext, er: unknown): Promise<XsError> => {
  const { signal, published } = ctx
  let e = toXsError(er)
  if (ctx.source !== undefined && signal?.aborted === true && (er === signal.reason || !(er instanceof XsError))) {
    e = new XsError('E_STICK_CHANGED', `${ctx.label}: stopped before the end (${String((signal.reason as Error | undefined)?.message ?? 'aborted')}); ` +
      `${published.length === 0 ? 'nothing was published' : `published before that: ${listNames(published)}`}`, { cause: er })
  }
  await ctx.status?.finish({
    finishedAt: new Date().toISOString(), source: ctx.label, ok: false, published, skipped: ctx.skipped, code: e.code, message: e.message, line: `FAILED: ${describeError(e)}`,
    ...(ctx.signer !== undefined && { signer: ctx.signer }),
  })
  return e
}
