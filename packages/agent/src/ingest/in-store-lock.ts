import { withStoreLock, type PublishLayout } from '@xs-rsync/publisher'
import type { IngestContext } from './ingest-context.js'

export interface StoreLocked {
  /** The store, held under its lock. */
  layout: PublishLayout
}

/** Run `fn` holding the store lock, waiting (and saying so) while another stick is processed. */
export const inStoreLock = async <C extends IngestContext, T>(ctx: C, fn: (ctx: C & StoreLocked) => Promise<T>): Promise<T> =>
  withStoreLock(ctx.config, {
    wait: true,
    onWait: () => ctx.log('notice', 'Another stick is being processed; waiting for it to finish'),
    log: ctx.log,
    ...(ctx.signal && { signal: ctx.signal }),
  }, async (layout) => fn(Object.assign(ctx, { layout })))
