import { XsError } from '@xs-rsync/core'
import { describeValueDifference, listBuilds, showPath, unquoteFattrName, verifyBuild, type ListingDifference } from '@xs-rsync/publisher'
import type { CommandContext } from '../command-context.js'

/** One difference as `verify` prints it. Pure. */
export const renderDifference = (build: string, d: ListingDifference): string => {
  const path = d.name === '.' ? '(the tree itself)' : showPath(unquoteFattrName(d.name).toString('latin1'))
  if (d.actual === undefined) return `${build}: ${path} is missing (the archive has ${d.expected})`
  if (d.expected === undefined) return `${build}: ${path} is not in the archive (found ${d.actual})`
  if (d.expected.startsWith('hardlink to ')) return `${build}: ${path} is not a ${d.expected}: found ${d.actual}`
  const parts = describeValueDifference(d.expected, d.actual)
  return `${build}: ${path} ${parts.length === 0 ? 'differs' : `differs in ${parts.join(', ')}`}: expected ${d.expected}, found ${d.actual}`
}

/**
 * xs-rsync verify [NAME...]: compare each published tree (default: all) with
 * its archive; every difference on stdout, exit E_TREE_DIFFERS when there is one.
 */
export default async function run (ctx: CommandContext): Promise<number> {
  const names = ctx.positionals.length > 0 ? ctx.positionals : (await listBuilds(ctx.config)).map((b) => b.name)
  if (names.length === 0) {
    ctx.log('notice', 'DONE: no builds are published; nothing to verify')
    return 0
  }
  const bad: string[] = []
  let total = 0
  for (const name of names) {
    const res = await verifyBuild({
      config: ctx.config, name, log: ctx.log, signal: ctx.signal,
      onDifference: (d) => { ctx.out(renderDifference(name, d)) },
    })
    if (res.differences > 0) bad.push(`${name} (${res.differences})`)
    total += res.differences
  }
  if (bad.length > 0) {
    throw new XsError('E_TREE_DIFFERS', `${total} difference(s) between the served files and the archives: ${bad.join(', ')}; each is listed above`)
  }
  ctx.log('notice', `DONE: ${names.join(', ')}: the served files are exactly what ${names.length === 1 ? 'its archive says' : 'their archives say'}`)
  return 0
}
