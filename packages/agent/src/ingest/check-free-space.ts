import { checkSpace, describeNeed, spaceNeeded } from '../space-check.js'
import type { IngestContext } from './ingest-context.js'
import type { BuildsPlanned } from './plan-builds.js'

/** Stage: check the store has room for the copies and the unpacked trees of the builds to publish. */
export const checkFreeSpace = async <C extends IngestContext & BuildsPlanned>(ctx: C): Promise<C> => {
  const { log, plans, config } = ctx
  ctx.step('space')
  if (ctx.opts.spaceCheck === false) {
    log('info', 'Not checking the store for space (read-back of a stick, no store)')
    return ctx
  }
  const copyBytes = plans.reduce((n, p) => n + p.tarball.size + p.contents.size + p.md5.size + p.nameFile.size, 0)
  const need = spaceNeeded(copyBytes, plans.reduce((n, p) => n + p.tarball.size, 0), config.reserveBytes)
  const { free } = await checkSpace(config.root, need)
  log('info', `The store needs ${describeNeed(need)}; ${Math.floor(free / 1024 / 1024)} MB free`)
  return ctx
}
