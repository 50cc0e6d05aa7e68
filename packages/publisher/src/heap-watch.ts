import { getHeapStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { XsError } from '@xs-rsync/core'

/** Share of V8's heap limit an unpack's entry loop may fill; the steps after it (ownership data) need room too. */
export const HEAP_SHARE = 0.5
const EVERY = 1024

let fullGc: (() => void) | null | undefined
/** V8's full collection, to tell live data from garbage before refusing; null where it cannot be had. */
const getGc = (): (() => void) | null => {
  if (fullGc !== undefined) return fullGc
  try {
    setFlagsFromString('--expose-gc')
    const gc: unknown = runInNewContext('gc')
    fullGc = typeof gc === 'function' ? gc as () => void : null
  } catch {
    fullGc = null
  }
  return fullGc
}

export interface HeapStats {
  used: number
  limit: number
}

const v8Heap = (): HeapStats => {
  const s = getHeapStatistics()
  return { used: s.used_heap_size, limit: s.heap_size_limit }
}

/**
 * Ends an unpack with a clean E_ARCHIVE_UNSAFE before V8's heap limit can
 * end the process (SIGABRT, no FAILED line): every 1024 entries the heap in
 * use is compared with HEAP_SHARE of the limit; above it, a full collection
 * runs first, so garbage never refuses a build.
 */
export class HeapWatch {
  readonly #what: string
  readonly #stats: () => HeapStats
  readonly #gc: () => (() => void) | null
  #n = 0

  constructor (what: string, stats: () => HeapStats = v8Heap, gc: () => (() => void) | null = getGc) {
    this.#what = what
    this.#stats = stats
    this.#gc = gc
  }

  /** Call once per entry; throws E_ARCHIVE_UNSAFE when the unpack's live heap is over the share. */
  entry (entries: number): void {
    if (++this.#n < EVERY) return
    this.#n = 0
    let s = this.#stats()
    if (s.used <= s.limit * HEAP_SHARE) return
    const gc = this.#gc()
    if (gc !== null) {
      gc()
      s = this.#stats()
      if (s.used <= s.limit * HEAP_SHARE) return
    } else if (s.used <= s.limit * 0.75) {
      return
    }
    throw new XsError('E_ARCHIVE_UNSAFE', `${this.#what}: unpacking needs more memory than this server allows: ${mib(s.used)} in use after ${entries} entries, ` +
      `limit ${mib(s.limit * HEAP_SHARE)} (half of the ${mib(s.limit)} heap); the archive's entries or names are too many or too long`,
    { expected: String(Math.floor(s.limit * HEAP_SHARE)), actual: String(s.used) })
  }
}

const mib = (n: number): string => `${Math.round(n / 1024 / 1024)} MiB`
