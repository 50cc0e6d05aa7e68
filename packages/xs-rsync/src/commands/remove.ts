import { hostname } from 'node:os'
import { XsError } from '@xs-rsync/core'
import { describeAvailable, removeBuilds, type RemoveBuildsResult } from '@xs-rsync/publisher'
import type { CommandContext } from '../command-context.js'

/** The DONE line of a removal (remove, prune --yes). Pure. */
export const removedLine = (res: RemoveBuildsResult, host: string): string => {
  const what = [
    ...res.removed.map((r) => `removed build ${r.name}${r.files.length === 0 ? '' : ` and its ${r.files.length} files in xobuilds-packed`}`),
    ...(res.forgotten.length === 0 ? [] : [`forgot ${res.forgotten.join(', ')} (a stick may bring ${res.forgotten.length === 1 ? 'it' : 'them'} back)`]),
  ].join('; ')
  const left = res.treesLeft.length === 0 ? '' : `; still being pulled, removed by the next job: ${res.treesLeft.join(', ')}`
  return `DONE: ${what}${left}; ${describeAvailable(res.offered, host)}`
}

/**
 * xs-rsync remove [--forget] NAME...: stop serving builds and delete their
 * files; what is kept against replay stays unless --forget.
 */
export default async function run (ctx: CommandContext): Promise<number> {
  if (ctx.positionals.length === 0) throw new XsError('E_USAGE', 'usage: xs-rsync remove [--forget] NAME...')
  const res = await removeBuilds({ config: ctx.config, names: ctx.positionals, forget: ctx.values.forget === true, log: ctx.log })
  ctx.log('notice', removedLine(res, hostname()))
  return 0
}
