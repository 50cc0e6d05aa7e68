/**
 * Worker thread: decodes bzip2 with seek-bzip (synchronous, pure JS) while
 * the main thread streams. Input slots are announced on parentPort and taken
 * synchronously (receiveMessageOnPort + Atomics.wait); output is written into
 * shared slots, each claimed with a credit the main thread gives back once it
 * copied the slot and wants more (backpressure). Decodes MULTI-stream:
 * pbzip2/lbzip2 write one bzip2 stream per block.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads'
import Bunzip from 'seek-bzip'
import { CTL, IN_CHUNK, OUT_CHUNK, OUT_SLOTS, type InputMessage, type WorkerMessage, type WorkerShared } from './bzip2-js-protocol.js'

// seek-bzip allocates a fresh block buffer (up to 3.6 MB) for every bzip2
// block, and V8 collects them late (after ~64 MB of external memory): hand it
// the same buffer each time. Safe: a block is fully written out before the
// next one is read. This realm runs nothing but seek-bzip.
let blockBuf: Uint32Array | undefined
globalThis.Uint32Array = new Proxy(Uint32Array, {
  construct (target, args: unknown[]) {
    const n = args[0]
    if (typeof n !== 'number' || n < 100_000 || n % 100_000 !== 0) return Reflect.construct(target, args)
    if (blockBuf?.length !== n) blockBuf = new target(n)
    return blockBuf
  },
})

const port = parentPort
if (port === null) throw new Error('bzip2-js-worker must run in a worker thread')
const shared = workerData as WorkerShared
const ctl = new Int32Array(shared.control)
const post = (m: WorkerMessage): void => port.postMessage(m)

const checkAbort = (): void => {
  if (Atomics.load(ctl, CTL.abort) !== 0) throw new Error('aborted')
}

let chunk: Uint8Array = new Uint8Array(0)
let inSlot = -1
let pos = 0
let ended = false

/** True when a byte is available; blocks for the next input slot. */
const fill = (): boolean => {
  while (pos >= chunk.length) {
    if (ended) return false
    if (inSlot >= 0) {
      post({ type: 'took', slot: inSlot })
      inSlot = -1
    }
    const seq = Atomics.load(ctl, CTL.inSeq)
    const m = receiveMessageOnPort(port)
    if (m === undefined) {
      Atomics.wait(ctl, CTL.inSeq, seq)
      checkAbort()
      continue
    }
    const msg = m.message as InputMessage
    if (msg === null) ended = true
    else {
      inSlot = msg.slot
      chunk = new Uint8Array(shared.input, msg.slot * IN_CHUNK, msg.length)
      pos = 0
    }
  }
  return true
}

const readByte = (): number => {
  if (!fill()) throw new Error('unexpected end of bzip2 data (truncated)')
  return chunk[pos++] ?? 0
}

/** Wait for a free output slot. */
const claim = (): void => {
  for (let c = Atomics.load(ctl, CTL.credits); c <= 0; c = Atomics.load(ctl, CTL.credits)) {
    Atomics.wait(ctl, CTL.credits, c)
    checkAbort()
  }
  Atomics.sub(ctl, CTL.credits, 1)
}

let outSlot = 0
let out: Uint8Array = new Uint8Array(shared.output, 0, OUT_CHUNK)
let outPos = 0

const flush = (last: boolean): void => {
  if (outPos > 0) {
    post({ type: 'data', slot: outSlot, length: outPos })
    outSlot = (outSlot + 1) % OUT_SLOTS
    out = new Uint8Array(shared.output, outSlot * OUT_CHUNK, OUT_CHUNK)
    outPos = 0
    if (!last) claim()
  }
}

try {
  claim()
  Bunzip.decode({
    readByte,
    read: (buf, off, len) => {
      for (let i = 0; i < len; i++) buf[off + i] = readByte()
      return len
    },
    eof: () => !fill(),
    seek: () => { throw new Error('seek not supported') },
  }, {
    writeByte: (b) => {
      out[outPos++] = b
      if (outPos === OUT_CHUNK) flush(false)
    },
  }, true)
  flush(true)
  post({ type: 'end' })
} catch (er) {
  post({ type: 'error', message: (er as Error).message })
}
