import { XsError } from '@xs-rsync/core'
import { ingest } from '@xs-rsync/agent'
import type { CommandContext } from '../command-context.js'

/**
 * xs-rsync ingest [--check] [--allow-downgrade] SOURCE: verify the stick and
 * publish its builds. The library logs the numbered steps and the final line;
 * a refusal is thrown and becomes the CLI's FAILED line and exit status.
 */
export default async function run (ctx: CommandContext): Promise<number> {
  const [source, ...rest] = ctx.positionals
  if (source === undefined || rest.length > 0) {
    throw new XsError('E_USAGE', 'usage: xs-rsync ingest [--check] [--allow-downgrade] SOURCE (block device, mount point or folder)')
  }
  await ingest({
    config: ctx.config,
    source,
    check: ctx.values.check === true,
    allowDowngrade: ctx.values['allow-downgrade'] === true,
    log: ctx.log,
    onProgress: ctx.onProgress,
    signal: ctx.signal,
  })
  return 0
}
