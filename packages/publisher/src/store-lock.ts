import { mkdir } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { acquireLock, removeStaleAtomicTemps, silentLog, type LogFn, type XsConfig } from '@xs-rsync/core'
import { gcTrees } from './gc-trees.js'
import { giveToStoreOwner } from './give-to-store-owner.js'
import { publishLayout, type PublishLayout } from './publish-layout.js'
import { recoverPlacement } from './packed-placement.js'
import { cleanStaleStaging } from './staging.js'

export interface StoreLockOptions {
  /** Wait for a running job (true) or fail with E_LOCKED at once (false). */
  wait: boolean
  onWait?: () => void
  timeoutSeconds?: number
  /** Stop waiting when aborted. */
  signal?: AbortSignal
  log?: LogFn
}

/** Create the store folders the publisher uses (idempotent). */
export const ensureStore = async (layout: PublishLayout): Promise<void> => {
  for (const d of [layout.packed, layout.builds, layout.trees, layout.records, layout.ownership, layout.removed, layout.tmp]) {
    await mkdir(d, { recursive: true, mode: 0o755 })
  }
}

/**
 * Run `fn` holding the store lock (ROOT/state/xs-rsync.lock): one job at a
 * time. On entry, a placement into xobuilds-packed that a killed run left
 * half-done is finished, and staging of killed runs and unreferenced trees
 * are removed.
 * The lock is flock-based: not re-entrant, so never nest this.
 */
export const withStoreLock = async <T>(
  config: XsConfig,
  opts: StoreLockOptions,
  fn: (layout: PublishLayout) => Promise<T>,
): Promise<T> => {
  const layout = publishLayout(config.root)
  const log = opts.log ?? silentLog
  await ensureStore(layout)
  const lockOpts = { wait: opts.wait, ...(opts.onWait && { onWait: opts.onWait }),
    ...(opts.timeoutSeconds !== undefined && { timeoutSeconds: opts.timeoutSeconds }), ...(opts.signal && { signal: opts.signal }) }
  const lock = await acquireLock(layout.lock, lockOpts)
  try {
    // first: a placement's files wait in staging of the killed run
    await recoverPlacement(layout, log)
    await cleanStaleStaging(layout.tmp, log)
    // temp files of atomic writes whose process was killed before the rename
    for (const [dir, target] of [[layout.state], [layout.records], [layout.removed], [join(layout.state, 'ingest-running')],
      [dirname(config.rsyncdConf), basename(config.rsyncdConf)]] as const) {
      for (const name of await removeStaleAtomicTemps(dir, target)) log('info', `Removed ${join(dir, name)}, left by a killed job`)
    }
    await gcTrees(layout, log)
    return await fn(layout)
  } finally {
    // a root job on a store owned by the service user: leave nothing root-owned
    await giveToStoreOwner(layout.root, [layout.root], true)
      .catch((er: unknown) => { log('warning', (er as Error).message) })
    await lock.release()
  }
}

/** Lock options for a job run by a person: wait, and say so. */
export const waitWithNotice = (log: LogFn = silentLog): StoreLockOptions => ({
  wait: true,
  onWait: () => log('notice', 'Another xs-rsync job is running on this store; waiting for it to finish'),
})
