import { existsSync } from 'node:fs'
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
 * The ingest failed with `er`: the error to throw, recorded as the status
 * file's last result. A stop through the signal is one outcome wherever it
 * came (copy, unpack, publish): E_INTERRUPTED saying what was published, when
 * the reason is an interruption (Ctrl-C, SIGTERM) and the stick is still
 * there; E_STICK_CHANGED when its device is gone (systemd stops the job of a
 * pulled stick) or for any other stop once the stick was found.
 */
export const recordFailure = async (ctx: IngestContext, er: unknown): Promise<XsError> => {
  const { signal, published } = ctx
  let e = toXsError(er)
  const reason: unknown = signal?.reason
  if (signal?.aborted === true) {
    const what = published.length === 0 ? 'nothing was published' : `published before that: ${listNames(published)}`
    const why = String((reason as Error | undefined)?.message ?? 'aborted')
    const device = ctx.source?.device
    const gone = device !== undefined && !existsSync(device)
    if (reason instanceof XsError && reason.code === 'E_INTERRUPTED' && !gone) {
      // whatever the stopped step threw (a killed child, an abort, a cut read) is the interruption
      e = new XsError('E_INTERRUPTED', `${what} (${why})`, { cause: er })
    } else if (ctx.source !== undefined && (er === reason || !(er instanceof XsError) || gone)) {
      e = new XsError('E_STICK_CHANGED', `${ctx.label}: stopped before the end (${gone ? `${device} is gone; ` : ''}${why}); ${what}`, { cause: er })
    }
  }
  await ctx.status?.finish({
    finishedAt: new Date().toISOString(), source: ctx.label, ok: false, published, skipped: ctx.skipped, code: e.code, message: e.message, line: `FAILED: ${describeError(e)}`,
    ...(ctx.signer !== undefined && { signer: ctx.signer }),
  })
  return e
}
