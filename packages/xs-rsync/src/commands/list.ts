import { XsError } from '@xs-rsync/core'
import { listBuilds, type BuildRecord } from '@xs-rsync/publisher'
import type { CommandContext } from '../command-context.js'

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

/** 1536 -> "1.5 KiB". */
export const humanSize = (bytes: number): string => {
  let n = bytes
  let u = 0
  while (n >= 1024 && u < UNITS.length - 1) { n /= 1024; u++ }
  return u === 0 ? `${n} B` : `${n.toFixed(1)} ${UNITS[u]}`
}

const shortTime = (iso: string): string => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')

/**
 * When and by which NOC key the stick a build came from was signed: the
 * time and the key's fingerprint; "unsigned" (permissive mode); "-" for a
 * build that did not come from a stick (refresh, publish). Pure.
 */
export const signedColumns = (b: BuildRecord): [string, string] => {
  const ing = b.extra?.ingest as { signedAt?: unknown, signedBy?: unknown } | undefined
  if (typeof ing !== 'object' || ing === null) return ['-', '-']
  if (typeof ing.signedAt !== 'string') return ['unsigned', '-']
  return [shortTime(ing.signedAt), typeof ing.signedBy === 'string' ? ing.signedBy : '-']
}

/** The table `xs-rsync list` prints. Pure. */
export const renderBuildTable = (builds: readonly BuildRecord[]): string => {
  if (builds.length === 0) return 'No builds are published.'
  const rows = [['NAME', 'SIZE', 'FILES', 'PUBLISHED', 'TARBALL', 'MD5', 'SIGNED', 'SIGNED BY'],
    ...builds.map((b) => [b.name, humanSize(b.bytes), String(b.entries),
      shortTime(b.publishedAt), b.tarball, b.md5, ...signedColumns(b)])]
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n')
}

/** xs-rsync list [--json] */
export default async function run (ctx: CommandContext): Promise<number> {
  if (ctx.positionals.length > 0) throw new XsError('E_USAGE', 'usage: xs-rsync list [--json]')
  const builds = await listBuilds(ctx.config)
  ctx.out(ctx.values.json === true ? JSON.stringify(builds, null, 2) : renderBuildTable(builds))
  return 0
}
