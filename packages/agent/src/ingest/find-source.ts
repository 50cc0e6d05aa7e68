import { resolveSource, type ResolvedSource } from '../resolve-source.js'
import type { IngestContext } from './ingest-context.js'

export interface SourceFound {
  source: ResolvedSource
}

/** The stick's builds folder, found for certain. */
export interface BuildsFolderFound extends SourceFound {
  source: ResolvedSource & { buildsDir: string }
}

/** Stage: find (and mount) the stick and its xs-xobuilds folder. */
export const findSource = async <C extends IngestContext>(ctx: C): Promise<C & SourceFound> => {
  ctx.step('find', ctx.opts.source)
  const source = await resolveSource(ctx.opts.source, { mountBase: ctx.config.mountBase, log: ctx.log, ...(ctx.signal && { signal: ctx.signal }) })
  return Object.assign(ctx, { source, label: source.label })
}

/** Whether the stick holds an xs-xobuilds folder. */
export const holdsBuilds = <C extends IngestContext & SourceFound>(ctx: C): ctx is C & BuildsFolderFound => ctx.source.buildsDir !== null
