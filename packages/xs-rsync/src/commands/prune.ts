import { statfs } from 'node:fs/promises'
import { hostname } from 'node:os'
import { parseSize, XsError } from '@xs-rsync/core'
import { listBuilds, planPrune, removeBuilds, type PrunePlan } from '@xs-rsync/publisher'
import type { CommandContext } from '../command-context.js'
import { humanSize } from './list.js'
import { removedLine } from './remove.js'

/** What `prune` prints (the plan; a dry run says how to act). Pure. */
export const renderPrunePlan = (plan: PrunePlan, act: boolean): string => {
  const out: string[] = []
  if (plan.remove.length === 0) out.push('Nothing to remove.')
  else {
    out.push(act ? 'Removing (oldest first):' : 'Would remove (oldest first):')
    for (const r of plan.remove) out.push(`  ${r.name}  arrived ${r.arrivedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}  frees about ${humanSize(r.bytes)}`)
  }
  if (plan.keep.length > 0) {
    out.push('Keeping:')
    for (const k of plan.keep) out.push(`  ${k.name}${k.newestOfSeries ? '  (newest of its series: never pruned)' : ''}`)
  }
  if (plan.overKeep > 0) out.push(`${plan.overKeep} more than --keep asks for are kept: each is the newest of its series ("xs-rsync remove NAME" removes one).`)
  if (plan.shortBytes > 0) out.push(`Even so, about ${humanSize(plan.shortBytes)} more would be needed for --free.`)
  if (!act && plan.remove.length > 0) out.push('Nothing was changed. Run again with --yes to remove them.')
  return out.join('\n')
}

const count = (v: unknown): number | undefined => {
  if (v === undefined) return undefined
  if (typeof v !== 'string' || !/^\d+$/.test(v)) throw new XsError('E_USAGE', `--keep must be a number of builds, not "${String(v)}"`)
  return Number(v)
}

/**
 * xs-rsync prune (--keep N | --free SIZE) [--yes]: remove the oldest builds,
 * never the newest of a series. Without --yes it only prints the plan.
 */
export default async function run (ctx: CommandContext): Promise<number> {
  if (ctx.positionals.length > 0) throw new XsError('E_USAGE', 'usage: xs-rsync prune (--keep N | --free SIZE) [--yes]')
  const keep = count(ctx.values.keep)
  const freeText = ctx.values.free
  const free = typeof freeText === 'string' ? parseSize(freeText) : undefined
  if (typeof freeText === 'string' && free === undefined) throw new XsError('E_USAGE', `--free must be a size like 10G or 500M, not "${freeText}"`)
  if (keep === undefined && free === undefined) throw new XsError('E_USAGE', 'prune needs --keep N or --free SIZE (usage: xs-rsync prune (--keep N | --free SIZE) [--yes])')
  const fs = await statfs(ctx.config.root)
  const plan = planPrune(await listBuilds(ctx.config), {
    ...(keep !== undefined && { keep }), ...(free !== undefined && { free, freeNow: fs.bavail * fs.bsize }),
  })
  const act = ctx.values.yes === true
  ctx.out(renderPrunePlan(plan, act))
  if (!act || plan.remove.length === 0) return 0
  const res = await removeBuilds({ config: ctx.config, names: plan.remove.map((r) => r.name), log: ctx.log })
  ctx.log('notice', removedLine(res, hostname()))
  return 0
}
