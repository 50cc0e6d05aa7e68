import { storeLayout } from '@xs-rsync/core'
import { listBuilds, readBuildRecords, readRemovedRecord } from '@xs-rsync/publisher'
import { join } from 'node:path'
import { checkReplay, ingestRecordOf } from '../replay-record.js'
import type { IngestContext } from './ingest-context.js'
import type { ManifestRead } from './read-manifest.js'
import type { SignatureChecked } from './check-signature.js'
import type { StickFilesChecked } from './check-stick-files.js'
import type { StickBuild } from './stick-builds.js'
import { checkNameCase, checkPackedOwners } from './check-build-names.js'

export interface BuildsPlanned {
  /** The builds to copy and publish; the others are in ctx.skipped (already published, same tarball). */
  plans: StickBuild[]
}

/**
 * Stage: compare the stick's builds with the published ones: NAMEs that
 * differ only in case, files of another NAME (check-build-names.ts), replay
 * and downgrade rules. Any refusal refuses the whole stick, before anything
 * is copied.
 */
export const planBuilds = async <C extends IngestContext & ManifestRead & SignatureChecked & StickFilesChecked>(ctx: C): Promise<C & BuildsPlanned> => {
  const { log, manifest: m, signature } = ctx
  ctx.step('compare')
  const records = await listBuilds(ctx.config)
  checkNameCase(ctx.builds, records.map((r) => r.name))
  const plans: StickBuild[] = []
  ctx.skipped = []
  for (const b of ctx.builds) {
    // a removed build is compared with what was kept of it: the stick it came from, or an older one, cannot bring it back
    const removed = records.some((r) => r.name === b.name) ? undefined : await readRemovedRecord(storeLayout(ctx.config.root).state, b.name)
    const rec = records.find((r) => r.name === b.name) ?? removed?.record
    const d = checkReplay({ name: b.name, md5: b.expectedMd5, algo: m.algo, tarballHash: b.tarball.hash, signedAt: signature?.created },
      rec === undefined ? undefined : { md5: rec.md5, ingest: ingestRecordOf(rec.extra) }, ctx.opts.allowDowngrade === true)
    if (d.action === 'same' && removed !== undefined) {
      log('notice', `Build ${b.name} was removed from this server on ${removed.removedAt}; this stick holds that same build and does not bring it back ("xs-rsync remove --forget ${b.name}" allows it)`)
      continue
    }
    if (d.action === 'same') {
      ctx.skipped.push(b.name)
      log('notice', `Build ${b.name} is already published (same tarball); skipped`)
      continue
    }
    if (d.action === 'replace') {
      log(d.downgrade ? 'warning' : 'info', `Build ${b.name} will replace the published ${b.name}${d.downgrade ? ' although the stick is older (--allow-downgrade)' : ''}`)
    }
    plans.push(b)
  }
  // records of builds not served right now (a tree gone) still say whose files are whose
  const allRecords = await readBuildRecords(join(storeLayout(ctx.config.root).state, 'builds')).catch(() => records)
  await checkPackedOwners(storeLayout(ctx.config.root).packed, plans, allRecords)
  return Object.assign(ctx, { plans })
}
