import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ProgressMeter } from '@xs-rsync/core'
import { copyVerified } from '../copy-verified.js'
import type { CopyFollower } from '../follow-copy.js'
import type { IngestContext } from './ingest-context.js'
import type { IngestStaging } from './ingest-staging.js'
import { listNames } from './list-names.js'
import type { SignatureChecked } from './check-signature.js'
import type { StickFilesChecked } from './check-stick-files.js'
import type { BuildsPlanned } from './plan-builds.js'
import { startEarlyUnpack } from './start-early-unpack.js'

/**
 * Stage: hash every file to read against the manifest, and, with a staging
 * folder, copy it there as it is hashed, each build's tarball unpacked as it
 * is copied. Without staging (`--check`) the files of every build are
 * hashed, also those already published; with it, only those of the plans.
 */
export const copyAndVerify = async <C extends IngestContext & SignatureChecked & StickFilesChecked & BuildsPlanned & { staging?: IngestStaging }>(ctx: C): Promise<C> => {
  const { log, plans, extras, staging, manifest: m } = ctx
  const hashed = staging === undefined ? ctx.builds : plans
  const streamed = [...hashed.flatMap((p) => [p.tarball, p.contents]), ...extras]
  const total = streamed.reduce((n, f) => n + f.size, 0)
  ctx.step('copy', `${(total / 1024 / 1024).toFixed(1)} MB`)
  const meter = new ProgressMeter({ step: ctx.check ? 'verify' : 'copy', bytesTotal: total, onProgress: ctx.onProgress })
  // One unpack at a time (memory, CPUs): a tarball copied while an earlier one is still
  // unpacking is unpacked when its build is published.
  let unpacking = false
  for (const f of streamed) {
    const dest = staging !== undefined && !extras.includes(f) ? join(staging.dir, f.name) : undefined
    const plan = unpacking ? undefined : plans.find((p) => p.tarball === f)
    let follower: CopyFollower | undefined
    if (staging !== undefined && dest !== undefined && plan !== undefined) {
      const early = await startEarlyUnpack(ctx, staging, plan, f, dest)
      follower = early.follower
      unpacking = true
      early.ended.then(() => { unpacking = false }, () => { unpacking = false })
    }
    try {
      await copyVerified({
        file: f, algo: m.algo, meter, ...(dest !== undefined && { dest }), ...(ctx.signal && { signal: ctx.signal }),
        ...(follower !== undefined && { onWritten: (n: number) => follower.wrote(n) }),
      })
      follower?.complete()
    } catch (er) {
      follower?.fail(er)
      throw er
    }
  }
  meter.finish()
  if (staging !== undefined) {
    for (const p of plans) {
      await writeFile(join(staging.dir, p.md5.name), p.md5Bytes, { flag: 'wx', mode: 0o644 })
      await writeFile(join(staging.dir, p.nameFile.name), p.nameBytes, { flag: 'wx', mode: 0o644 })
    }
  }
  const matched = streamed.length + ctx.builds.length * 2 // every .md5 and .name was hashed when read
  log('notice', matched === ctx.files.length
    ? `All ${ctx.files.length} listed files match the manifest`
    : `The ${matched} files of the build${hashed.length === 1 ? '' : 's'} to publish match the manifest (${listNames(ctx.skipped)} already published, not read again)`)
  return ctx
}
