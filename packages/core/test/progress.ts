import t from 'tap'
import { ProgressMeter, formatProgress, type ProgressEvent } from '../src/progress.js'

t.test('emits at every 10% and at the end, not per chunk', async (t) => {
  const evs: ProgressEvent[] = []
  let now = 0
  const m = new ProgressMeter({ step: 'copy', bytesTotal: 1000, onProgress: (e) => evs.push(e), now: () => now })
  for (let i = 0; i < 100; i++) { now += 10; m.add(10) }
  m.finish()
  m.finish()
  t.equal(evs.length, 10, 'no second event for 100%')
  t.same(evs.map((e) => e.bytesDone), [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000])
  t.equal(evs.at(-1)?.etaSeconds, 0)
})

t.test('finish reports what the last event did not', async (t) => {
  const evs: ProgressEvent[] = []
  const m = new ProgressMeter({ step: 'copy', bytesTotal: 1000, onProgress: (e) => evs.push(e), now: () => 0 })
  m.add(150)
  m.add(10)
  m.finish()
  t.same(evs.map((e) => e.bytesDone), [150, 160])
})

t.test('emits on the interval when progress is slow', async (t) => {
  const evs: ProgressEvent[] = []
  let now = 0
  const m = new ProgressMeter({ step: 'unpack', bytesTotal: 1e9, onProgress: (e) => evs.push(e), now: () => now })
  for (let i = 0; i < 10; i++) { now += 10_000; m.add(1) }
  t.equal(evs.length, 3, 'every 30 s')
})

t.test('formatProgress', async (t) => {
  t.equal(formatProgress({ step: 'copy', build: 'b1', bytesDone: 50 * 1048576, bytesTotal: 100 * 1048576, rate: 10 * 1048576, etaSeconds: 5 }),
    'b1: copy 50.0/100.0 MB (50%), 10.0 MB/s, 5 s left')
})
