import type { XsConfig } from '@xs-rsync/core'
import { withStoreLock } from '@xs-rsync/publisher'

/**
 * Take the store's lock as a job does (not waiting) and keep it, so tests
 * can see what other jobs do meanwhile; `release()` lets it go and resolves
 * once it is free.
 */
export const holdStoreLock = async (config: XsConfig): Promise<{ release: () => Promise<void> }> => {
  let letGo!: () => void
  const held = new Promise<void>((resolve) => { letGo = resolve })
  let entered!: () => void
  const inLock = new Promise<void>((resolve) => { entered = resolve })
  const holder = withStoreLock(config, { wait: false }, async () => { entered(); await held })
  await Promise.race([inLock, holder])
  return { release: async () => { letGo(); await holder } }
}
