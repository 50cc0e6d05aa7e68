import t from 'tap'
import { join } from 'node:path'
import { loadUsbEvents } from '../src/usb-events.js'

t.test('no USB bus: a clear reason, no unhandled rejection', async (t) => {
  const unhandled: unknown[] = []
  const onRejection = (r: unknown): void => { unhandled.push(r) }
  process.on('unhandledRejection', onRejection)
  t.teardown(() => { process.off('unhandledRejection', onRejection) })
  await t.rejects(loadUsbEvents(join(t.testdir({}), 'no-bus')), { message: /no USB bus on this machine/ })
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.same(unhandled, [])
})

t.test('the native emitter of the usb package starts and stops', async (t) => {
  // A stand-in for /sys/bus/usb, so the package's own emitter runs here too.
  const src = await loadUsbEvents(t.testdir({ usb: {} }) + '/usb')
  t.equal(src.name, 'usb hot-plug events')
  const stop = await src.start(() => {})
  await stop()
  t.pass('stopped; the process can exit')
})
