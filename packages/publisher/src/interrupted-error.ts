import { XsError } from '@xs-rsync/core'

const builds = (names: readonly string[]): string => `build${names.length === 1 ? '' : 's'} ${names.join(', ')}`

/**
 * What an interrupted job left, for its "FAILED: interrupted: ..." line:
 * which builds it published before the signal, which it did not, and that
 * what was served before stays served. Pure.
 */
export const describeInterrupted = (published: readonly string[], notPublished: readonly string[], why: string): string => {
  const parts = [
    published.length === 0 ? (notPublished.length === 0 ? 'nothing was published' : '') : `published ${builds(published)} before that`,
    notPublished.length === 0 ? '' : `${builds(notPublished)} not published`,
    'the builds served before are still served',
  ].filter((p) => p !== '')
  return `${parts.join('; ')} (${why})`
}

/** E_INTERRUPTED for a job stopped through `signal`, saying what it published and what not. */
export const interruptedError = (signal: AbortSignal, published: readonly string[], notPublished: readonly string[], cause: unknown): XsError =>
  new XsError('E_INTERRUPTED', describeInterrupted(published, notPublished, String((signal.reason as Error | undefined)?.message ?? 'aborted')), { cause })
