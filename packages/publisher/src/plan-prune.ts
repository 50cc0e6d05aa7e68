import { XsError } from '@xs-rsync/core'
import type { BuildRecord } from './build-record.js'

/**
 * The series a build belongs to: its NAME without its version number, the
 * longest run of digits and dots in it (on a tie, the last). So os883 and
 * os884 are one series ("os"), 13.2.10-xo4 and 13.2.11-xo4 another ("-xo4",
 * not 13.2.10-xo1's "-xo1": another laptop model), 32014o4 and 32015o4
 * another ("o4"), 44 and 45 another (""). Prune never removes the newest
 * build of a series. Pure.
 */
export const buildSeries = (name: string): string => {
  let best: RegExpExecArray | undefined
  for (const m of name.matchAll(/\d+(?:\.\d+)*/g)) if (best === undefined || m[0].length >= best[0].length) best = m as RegExpExecArray
  return best === undefined ? name : name.slice(0, best.index) + name.slice(best.index + best[0].length)
}

/** When a build came to this server: its ingest, else its (last) publish. */
export const arrivedAt = (rec: BuildRecord): string => {
  const ingested = (rec.extra?.ingest as { ingestedAt?: unknown } | undefined)?.ingestedAt
  return typeof ingested === 'string' && !Number.isNaN(Date.parse(ingested)) ? ingested : rec.publishedAt
}

/** About what removing a build frees: its unpacked content, and its tarball when the store holds it. */
export const freedBytes = (rec: BuildRecord): number => rec.bytes + (rec.source === undefined ? rec.size : 0)

export interface PruneGoal {
  /** Keep at most this many builds. */
  keep?: number
  /** Bytes that must be free on the store afterwards. */
  free?: number
  /** Bytes free now. */
  freeNow?: number
}

export interface PrunePlan {
  /** Oldest first. */
  remove: { name: string, arrivedAt: string, bytes: number }[]
  keep: { name: string, arrivedAt: string, newestOfSeries: boolean }[]
  /** Bytes still missing for `free` after removing every build that may go (0 when reached). */
  shortBytes: number
  /** Builds above `keep` that may not go (each the newest of its series). */
  overKeep: number
}

const byAge = (a: BuildRecord, b: BuildRecord): number => {
  const x = arrivedAt(a)
  const y = arrivedAt(b)
  return x < y ? -1 : x > y ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}

/**
 * Which builds prune removes: oldest first, never the newest of a series,
 * until at most `keep` are left and at least `free` bytes are free. Pure.
 */
export const planPrune = (builds: readonly BuildRecord[], goal: PruneGoal): PrunePlan => {
  if (goal.keep === undefined && goal.free === undefined) throw new XsError('E_USAGE', 'prune needs --keep N or --free SIZE')
  const sorted = [...builds].sort(byAge)
  const newest = new Map<string, string>()
  for (const b of sorted) newest.set(buildSeries(b.name), b.name)
  const protectedNames = new Set(newest.values())
  let count = sorted.length
  let free = goal.freeNow ?? 0
  const done = (): boolean => (goal.keep === undefined || count <= goal.keep) && (goal.free === undefined || free >= goal.free)
  const remove: PrunePlan['remove'] = []
  for (const b of sorted) {
    if (done()) break
    if (protectedNames.has(b.name)) continue
    remove.push({ name: b.name, arrivedAt: arrivedAt(b), bytes: freedBytes(b) })
    count--
    free += freedBytes(b)
  }
  const gone = new Set(remove.map((r) => r.name))
  return {
    remove,
    keep: sorted.filter((b) => !gone.has(b.name)).map((b) => ({ name: b.name, arrivedAt: arrivedAt(b), newestOfSeries: protectedNames.has(b.name) })),
    shortBytes: goal.free === undefined ? 0 : Math.max(0, goal.free - free),
    overKeep: goal.keep === undefined ? 0 : Math.max(0, count - goal.keep),
  }
}
