import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { LogFn } from '@xs-rsync/core'
import {
  groupPackedBuilds, placePackedFiles, publishBuildInLock, readBuildName, type BuildRecord, type StartedUnpack,
} from '@xs-rsync/publisher'
import type { IngestRecord } from '../replay-record.js'
import type { IngestContext } from './ingest-context.js'
import type { IngestStaging } from './ingest-staging.js'
import type { StickBuild } from './stick-builds.js'

/** Files of the packed folder that belong to the same base or the same NAME as `build`. */
const packedFilesToReplace = async (packed: string, base: string, name: string, log: LogFn): Promise<string[]> => {
  const { groups } = groupPackedBuilds(await readdir(packed))
  const out: string[] = []
  for (const g of groups) {
    let gName: string | undefined
    if (g.name !== undefined) gName = await readBuildName(join(packed, g.name)).catch(() => undefined)
    if (g.base !== base && gName !== name) continue
    if (g.base === base && gName !== undefined && gName !== name) {
      log('warning', `The stick's build ${name} replaces the files of build ${gName} in ${packed} (same file names)`)
    }
    out.push(...[g.tarball, g.md5, g.contents, g.name, ...g.conflicts].filter((f): f is string => f !== undefined))
  }
  return [...new Set(out)]
}

const baseOf = (b: StickBuild): string => groupPackedBuilds([b.tarball.name]).groups[0]?.base ?? b.tarball.name

/**
 * Move the verified files of `b` from staging into xobuilds-packed (replacing
 * the build's older files, kept aside), publish it, and on failure put the
 * older files back: what xobuilds-packed holds matches what is served.
 */
export const commitAndPublish = async (ctx: IngestContext, staging: IngestStaging, b: StickBuild, rec: IngestRecord): Promise<BuildRecord> => {
  const { log, signal } = ctx
  const { layout } = staging
  const unpacked: StartedUnpack | undefined = staging.unpacks.get(b.name)
  const placement = await placePackedFiles(layout, {
    name: b.name,
    from: staging.dir,
    mine: [b.tarball, b.md5, b.contents, b.nameFile].map((f) => f.name),
    aside: join(staging.dir, `old-${b.name}`),
    old: await packedFilesToReplace(layout.packed, baseOf(b), b.name, log),
  }, log)
  try {
    const res = await publishBuildInLock({
      config: ctx.config, tarball: join(layout.packed, b.tarball.name), extra: { ingest: rec }, log, onProgress: ctx.onProgress,
      ...(signal && { signal }), ...(unpacked && { unpacked }),
    })
    await placement.done()
    return res.record
  } catch (er) {
    await placement.undo().catch((e: unknown) => { log('warning', `Could not put back the earlier files of build ${b.name}: ${(e as Error).message}`) })
    throw er
  }
}
