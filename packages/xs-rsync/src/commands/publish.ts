import { resolve } from 'node:path'
import { XsError } from '@xs-rsync/core'
import { publishBuild } from '@xs-rsync/publisher'
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
  ctx.log('notice', `DONE: build ${record.name} is available to laptops (rsync module build-${record.name})`)
  return 0
}
