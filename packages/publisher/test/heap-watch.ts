import t from 'tap'
import { HEAP_SHARE, HeapWatch } from '../src/heap-watch.js'

t.test('a live heap over the share ends the unpack with E_ARCHIVE_UNSAFE, before V8 would', async (t) => {
  let used = 100
  let gcs = 0
  const w = new HeapWatch('build 45 (x.tar.bz2)', () => ({ used, limit: 1000 }), () => () => { gcs++ })
  for (let i = 0; i < 5000; i++) w.entry(i)
  t.equal(gcs, 0, 'under the share: no collection')
  used = 1000 * HEAP_SHARE + 1
  t.throws(() => { for (let i = 0; i < 2048; i++) w.entry(i) },
    { code: 'E_ARCHIVE_UNSAFE', message: /^build 45 \(x\.tar\.bz2\): unpacking needs more memory than this server allows: .* after \d+ entries/ })
  t.equal(gcs, 1, 'a full collection ran before refusing')
})

t.test('garbage does not refuse a build: after the collection the heap is under the share', async (t) => {
  let used = 900
  const w = new HeapWatch('b', () => ({ used, limit: 1000 }), () => () => { used = 200 })
  for (let i = 0; i < 4096; i++) w.entry(i)
  t.equal(used, 200)
})

t.test('without a way to collect, the bar is 3/4 of the limit', async (t) => {
  let used = 700
  const w = new HeapWatch('b', () => ({ used, limit: 1000 }), () => null)
  for (let i = 0; i < 2048; i++) w.entry(i)
  used = 760
  t.throws(() => { for (let i = 0; i < 1024; i++) w.entry(i) }, { code: 'E_ARCHIVE_UNSAFE' })
})

t.test('the real V8 collection can be had', async (t) => {
  const w = new HeapWatch('b')
  for (let i = 0; i < 3000; i++) w.entry(i)
  t.pass('no refusal on a small heap')
})
