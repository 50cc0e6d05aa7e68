import { readJobHistory, readRunningJobs, storeLayout, XsError, type JobRecord, type RunningJob } from '@xs-rsync/core'
import { readStatus, type IngestStatus } from '@xs-rsync/agent'
import { listBuilds, type BuildRecord } from '@xs-rsync/publisher'
import type { CommandContext } from '../command-context.js'
import { renderBuildTable } from './list.js'

const when = (iso: string): string => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')

/** The history, newest first: one line per job, with the stick and signer of an ingest. Pure. */
export const renderHistory = (history: readonly JobRecord[]): string[] => {
  if (history.length === 0) return ['No job has finished yet.']
  const out = [`Last ${history.length} job${history.length === 1 ? '' : 's'} (newest first):`]
  for (const h of history) {
    const what = h.kind === 'ingest' ? `ingest ${h.source ?? h.args.join(' ')}` : [h.kind, ...h.args].join(' ')
    const signed = h.signer !== undefined ? `, ${h.signer}` : h.signedBy === undefined ? '' : h.signedBy === null ? ', unsigned' : `, signed by ${h.signedBy}`
    out.push(`  ${when(h.finishedAt)}  ${h.ok ? 'ok    ' : `FAILED${h.code === undefined ? '' : ` (${h.code})`}`}  ${what}${signed}`,
      `      ${h.line === '' ? '(no final line)' : h.line}`)
  }
  return out
}

/** What `xs-rsync status` prints. Pure. */
export const renderStatus = (status: IngestStatus, builds: readonly BuildRecord[], jobs: readonly RunningJob[] = [], history: readonly JobRecord[] = []): string => {
  const out: string[] = []
  for (const j of jobs) out.push(`Job in progress (pid ${j.pid}, since ${j.startedAt}): xs-rsync ${[j.kind, ...j.args].join(' ')}`)
  if (status.running.length === 0) out.push(jobs.length === 0 ? 'No ingest in progress.' : 'No ingest in progress (other jobs above).')
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
  out.push('', ...renderHistory(history))
  out.push('', renderBuildTable(builds))
  return out.join('\n')
}

/** xs-rsync status [--json]: the jobs in progress, the history of the last ingests and jobs, the published builds. */
export default async function run (ctx: CommandContext): Promise<number> {
  if (ctx.positionals.length > 0) throw new XsError('E_USAGE', 'usage: xs-rsync status [--json]')
  const status = await readStatus(storeLayout(ctx.config.root).state)
  const builds = await listBuilds(ctx.config)
  const state = storeLayout(ctx.config.root).state
  const jobs = await readRunningJobs(state)
  const history = await readJobHistory(state)
  ctx.out(ctx.values.json === true ? JSON.stringify({ ...status, jobs, history, builds }, null, 2) : renderStatus(status, builds, jobs, history))
  return 0
}
