import { hostname } from 'node:os'
import { describeError, XsError } from '@xs-rsync/core'
import { describeAvailable, refresh } from '@xs-rsync/publisher'
import type { CommandContext } from '../command-context.js'

/** xs-rsync refresh [--force] (xs-refresh-xobuilds): reconcile pub/builds with xobuilds-packed. */
export default async function run (ctx: CommandContext): Promise<number> {
  if (ctx.positionals.length > 0) throw new XsError('E_USAGE', `refresh takes no arguments, got: ${ctx.positionals.join(' ')}`)
  const res = await refresh({ config: ctx.config, force: ctx.values.force === true, log: ctx.log, onProgress: ctx.onProgress, signal: ctx.signal })
  const what = [
    res.published.length > 0 && `published ${res.published.join(', ')}`,
    res.removed.length > 0 && `removed ${res.removed.join(', ')}`,
    res.unchanged.length > 0 && `unchanged ${res.unchanged.join(', ')}`,
    res.refused.length > 0 && `not unpacked again (refused before, see the warnings) ${res.refused.map((r) => r.build).join(', ')}`,
  ].filter(Boolean).join('; ')
  const offered = describeAvailable(res.offered, hostname())
  const first = res.failed[0]
  if (first === undefined) {
    ctx.log('notice', `DONE: ${what === '' ? 'nothing to do' : what}; ${offered}`)
    return 0
  }
  ctx.log('err', `FAILED: ${res.failed.length} build(s) not published (${res.failed.map((f) => f.build).join(', ')}); ${offered}. ${describeError(first.error)}`)
  return first.error.exitCode
}
