import { existsSync } from 'node:fs'
import { XsError } from '@xs-rsync/core'
import { ingest } from '@xs-rsync/agent'
import type { CommandContext } from '../command-context.js'

/**
 * xs-rsync ingest [--check] [--allow-downgrade] SOURCE: verify the stick and
 * publish its builds. The library logs the numbered steps and the final line;
 * a refusal is thrown and becomes the CLI's FAILED line and exit status.
 * `--check` on a machine without a store (the NOC) skips the space check.
 */
export default async function run (ctx: CommandContext): Promise<number> {
  const [source, ...rest] = ctx.positionals
  if (source === undefined || rest.length > 0) {
    throw new XsError('E_USAGE', 'usage: xs-rsync ingest [--check] [--allow-downgrade] SOURCE (block device, mount point or folder)')
  }
  const check = ctx.values.check === true
  // At the NOC there is no store: --check verifies the stick, and the space
  // a school server would need is not this machine's business.
  const noStore = check && !existsSync(ctx.config.root)
  if (noStore) ctx.log('info', `No store at ${ctx.config.root} on this machine: checking the stick only`)
  await ingest({
    config: ctx.config,
    source,
    check,
    ...(noStore && { spaceCheck: false }),
    allowDowngrade: ctx.values['allow-downgrade'] === true,
    log: ctx.log,
    onProgress: ctx.onProgress,
    signal: ctx.signal,
  })
  return 0
}
