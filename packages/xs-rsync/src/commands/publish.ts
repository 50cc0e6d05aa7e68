import { hostname } from 'node:os'
import { resolve } from 'node:path'
import { XsError } from '@xs-rsync/core'
import { describeAvailable, listBuilds, publishBuild } from '@xs-rsync/publisher'
import type { CommandContext } from '../command-context.js'

/**
 * xs-rsync publish BUILDFILE [NAME] (xs-publish-xobuild): verify the md5 beside
 * BUILDFILE, unpack, publish as NAME (default: the .name file beside it),
 * regenerate the rsync config.
 */
export default async function run (ctx: CommandContext): Promise<number> {
  const [file, name, ...rest] = ctx.positionals
  if (file === undefined || rest.length > 0) throw new XsError('E_USAGE', 'usage: xs-rsync publish BUILDFILE [NAME]')
  const { record } = await publishBuild({
    config: ctx.config, tarball: resolve(file), ...(name !== undefined && { name }),
    log: ctx.log, onProgress: ctx.onProgress, signal: ctx.signal,
  })
  const available = (await listBuilds(ctx.config)).map((r) => r.name)
  ctx.log('notice', `DONE: published build ${record.name}; ${describeAvailable(available, hostname())}`)
  return 0
}
