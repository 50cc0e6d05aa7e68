import { storeLayout, XsError } from '@xs-rsync/core'
import { readStatus, type IngestStatus } from '@xs-rsync/agent'
import { listBuilds, type BuildRecord } from '@xs-rsync/publisher'
import type { CommandContext } from '../command-context.js'
import { renderBuildTable } from './list.js'

/** What `xs-rsync status` prints. Pure. */
export const renderStatus = (status: IngestStatus, builds: readonly BuildRecord[]): string => {
  const out: string[] = []
  if (status.running.length === 0) out.push('No ingest in progress.')
  for (const r of status.running) {
    out.push(`Ingest in progress (pid ${r.pid}, since ${r.startedAt}): ${r.source}`,
      `  [${r.step}/${r.steps}] ${r.title}${r.build === undefined ? '' : ` (build ${r.build})`}${r.percent === undefined ? '' : `: ${r.percent}%`}`)
  }
  const l = status.last
  if (l === undefined) {
    out.push('No ingest has finished yet.')
  } else {
    out.push(`Last ingest: ${l.ok ? 'succeeded' : 'FAILED'} at ${l.finishedAt}, stick ${l.source}`)
    if (l.published.length > 0) out.push(`  published: ${l.published.join(', ')}`)
    if (l.skipped.length > 0) out.push(`  already published (skipped): ${l.skipped.join(', ')}`)
    if (l.signer !== undefined) out.push(`  the stick was ${l.signer}`)
    if (!l.ok && l.code !== undefined) out.push(`  refused (${l.code}): ${l.message ?? ''}`)
    out.push(`  ${l.line}`)
  }
  out.push('', renderBuildTable(builds))
  return out.join('\n')
}

/** xs-rsync status [--json]: the ingest in progress, the last result, the published builds. */
export default async function run (ctx: CommandContext): Promise<number> {
  if (ctx.positionals.length > 0) throw new XsError('E_USAGE', 'usage: xs-rsync status [--json]')
  const status = await readStatus(storeLayout(ctx.config.root).state)
  const builds = await listBuilds(ctx.config)
  ctx.out(ctx.values.json === true ? JSON.stringify({ ...status, builds }, null, 2) : renderStatus(status, builds))
  return 0
}
