/**
 * The bzip2 worker and its stream share memory: control slots plus two rings
 * of buffers, so no buffer is allocated on one thread and freed on the other
 * (that fragments the heap: RSS grew by ~90 MB on a 100 MB archive).
 */
export const CTL = { inSeq: 0, credits: 1, abort: 2 } as const
export const CTL_SLOTS = 3
/** Compressed input: IN_SLOTS slots of IN_CHUNK bytes. */
export const IN_CHUNK = 1024 * 1024
export const IN_SLOTS = 2
/** Decoded output: OUT_SLOTS slots of OUT_CHUNK (>= 256 KiB) bytes; a slot is a credit. */
export const OUT_CHUNK = 256 * 1024
export const OUT_SLOTS = 4

export interface WorkerShared {
  control: SharedArrayBuffer
  input: SharedArrayBuffer
  output: SharedArrayBuffer
}

/** Main -> worker: input slot filled with `length` bytes, or null at the end. */
export type InputMessage = { slot: number, length: number } | null

/** Worker -> main. */
export type WorkerMessage =
  | { type: 'took', slot: number }
  | { type: 'data', slot: number, length: number }
  | { type: 'end' }
  | { type: 'error', message: string }
