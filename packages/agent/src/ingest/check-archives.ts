import { constants, createReadStream } from 'node:fs'
import { open, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { storeLayout, toXsError, XsError } from '@xs-rsync/core'
import { checkArchive, READ_CHUNK } from '@xs-rsync/publisher'
import type { IngestContext } from './ingest-context.js'
import type { StickFilesChecked } from './check-stick-files.js'

/**
 * Stage of `ingest --check` (and so of prepare-stick's read-back at the NOC):
 * every build's tarball goes through the whole unpack path (decoder, header
 * guard, every entry check and limit, md5 against its .md5), making its
 * names as empty files in a throwaway folder that is removed afterwards
 * (the store's tmp, or the OS temp folder when there is no store), so a
 * stick that passes here is not refused at a school for its archive.
 * The tarball is read again from the stick (O_NOFOLLOW); its md5 ties what
 * was checked to what the manifest verified.
 */
export const checkArchives = async <C extends IngestContext & StickFilesChecked>(ctx: C): Promise<C> => {
  const { log } = ctx
  const scratchDir = await scratchFor(ctx)
  let entries = 0
  for (const b of ctx.builds) {
    ctx.signal?.throwIfAborted()
    log('info', `Checking the archive of build ${b.name} (every entry, as empty files in a throwaway folder in ${scratchDir})`)
    const fh = await open(b.tarball.path, constants.O_RDONLY | constants.O_NOFOLLOW)
    try {
      const r = await checkArchive({
        tarball: b.tarball.path, source: { stream: createReadStream('', { fd: fh.fd, autoClose: false, highWaterMark: READ_CHUNK }), size: b.tarball.size },
        expectedMd5: b.expectedMd5, build: b.name, log, scratchDir, reserve: { bytes: ctx.config.reserveBytes }, ...(ctx.signal && { signal: ctx.signal }), ...(ctx.onProgress && { onProgress: ctx.onProgress }),
      })
      entries += r.entries
    } catch (er) {
      const e = toXsError(er)
      // the check's own folder ran out of room: nothing to say about the school
      if (e.code === 'E_NO_SPACE') throw e
      throw new XsError(e.code, `${e.message}; build ${b.name} would be refused at the school`,
        { ...(e.path !== undefined && { path: e.path }), ...(e.entry !== undefined && { entry: e.entry }), cause: e })
    } finally {
      await fh.close()
    }
  }
  log('notice', `The archive${ctx.builds.length === 1 ? '' : 's'} of ${ctx.builds.length} build${ctx.builds.length === 1 ? '' : 's'} unpack cleanly (${entries} names, every check and limit; nothing kept)`)
  return ctx
}

/** The store's tmp when the check has a store (it is on the store's file system); else the OS temp folder. */
const scratchFor = async (ctx: IngestContext): Promise<string> => {
  if (ctx.opts.spaceCheck === false) return tmpdir()
  const tmp = storeLayout(ctx.config.root).tmp
  return await stat(tmp).then((s) => s.isDirectory(), () => false) ? tmp : tmpdir()
}
