import { resolve } from 'node:path'
import { XsError } from '@xs-rsync/core'
import { unpackBuild } from '@xs-rsync/publisher'
import type { CommandContext } from '../command-context.js'

/**
 * xs-rsync unpack BUILDFILE DESTDIR (xs-unpack-xobuild): unpack only, for
 * inspection. DESTDIR must not exist; it gets root/ and the ownership data.
 */
export default async function run (ctx: CommandContext): Promise<number> {
  const [file, dest, ...rest] = ctx.positionals
  if (file === undefined || dest === undefined || rest.length > 0) throw new XsError('E_USAGE', 'usage: xs-rsync unpack BUILDFILE DESTDIR')
  const res = await unpackBuild({
    tarball: resolve(file), dest: resolve(dest), backend: ctx.config.backend,
    log: ctx.log, onProgress: ctx.onProgress, signal: ctx.signal,
  })
  for (const w of res.warnings) ctx.log('warning', w)
  ctx.log('notice', `DONE: ${res.entries} entries (${(res.bytes / 1024 / 1024).toFixed(1)} MB) in ${res.root}; ownership data in ${res.ownership}` +
    `${res.pristine === undefined ? '' : `; pristine tree ${res.pristine}`}; md5 ${res.md5}`)
  return 0
}
