import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { XsError, type Level } from '@xs-rsync/core'
import { watch } from '../src/watch.js'
import type { HotplugSource } from '../src/usb-events.js'

/** Wait (bounded) until `cond` holds. */
const until = async (cond: () => boolean, what: string): Promise<void> => {
  for (let i = 0; i < 500; i++) {
    if (cond()) return
    await sleep(10)
  }
  throw new Error(`timed out waiting for ${what}`)
}

const harness = () => {
  const devices: string[] = []
  const logs: string[] = []
  const ingested: string[] = []
  const gates = new Map<string, () => void>()
  const failing = new Set<string>()
  const ac = new AbortController()
  const ingest = async (device: string): Promise<void> => {
    ingested.push(device)
    await new Promise<void>((resolve) => { gates.set(device, resolve) })
    if (failing.has(device)) throw new XsError('E_SIGNATURE_BAD', `${device}: not signed by the NOC`)
  }
  return {
    devices, logs, ingested, gates, failing, ac, ingest,
    log: (level: Level, msg: string) => { logs.push(`${level}: ${msg}`) },
    lister: { name: 'fake', list: async () => [...devices] },
    hasFilesystem: async (d: string) => !d.endsWith('-nofs'),
  }
}

t.test('new sticks are ingested one at a time; failures are logged, not fatal', async (t) => {
  const h = harness()
  h.devices.push('/dev/sda1')
  h.failing.add('/dev/sdc1')
  const done = watch({
    log: h.log, signal: h.ac.signal, ingest: h.ingest, lister: h.lister, hotplug: null,
    hasFilesystem: h.hasFilesystem, pollMs: 10,
  })
  await until(() => h.logs.some((l) => l.includes('Already plugged in')), 'start')
  t.match(h.logs.join('\n'), /Watching for USB sticks \(fake every 0.01 s\)/)
  t.match(h.logs.join('\n'), /Already plugged in .*\/dev\/sda1/)

  h.devices.push('/dev/sdb1')
  await until(() => h.ingested.length === 1, 'sdb1')
  h.devices.push('/dev/sdc1', '/dev/sdd-nofs', '/dev/sde1')
  await until(() => h.logs.some((l) => l.includes('/dev/sde1 plugged in; it waits until /dev/sdb1 is done')), 'queued')
  h.devices.splice(h.devices.indexOf('/dev/sde1'), 1)
  await until(() => h.logs.some((l) => l.includes('/dev/sde1 was removed before its turn')), 'removed')
  t.same(h.ingested, ['/dev/sdb1'], 'one at a time')

  h.gates.get('/dev/sdb1')?.()
  await until(() => h.ingested.length === 2, 'sdc1')
  h.gates.get('/dev/sdc1')?.()
  await until(() => h.logs.some((l) => l.startsWith('err: /dev/sdc1: FAILED: stick signature is not valid')), 'failure logged')
  await until(() => h.logs.some((l) => l.includes('/dev/sdd-nofs holds no filesystem; ignored')), 'no fs')

  // Pulled out and plugged in again: a new stick.
  h.devices.splice(h.devices.indexOf('/dev/sdb1'), 1)
  await until(() => h.logs.some((l) => l.includes('/dev/sdb1 was removed')), 'sdb1 out')
  h.devices.push('/dev/sdb1')
  await until(() => h.ingested.length === 3, 'sdb1 again')
  t.same(h.ingested, ['/dev/sdb1', '/dev/sdc1', '/dev/sdb1'], 'sda1 (present at start), sde1 (gone), sdd (no fs) never ingested')

  h.ac.abort()
  h.gates.get('/dev/sdb1')?.()
  await done
  t.match(h.logs.at(-1), /Stopped watching/)
})

t.test('a hot-plug event makes it look at once; a failing lister is logged once', async (t) => {
  const h = harness()
  let fire: (() => void) | undefined
  let stopped = false
  const hotplug: HotplugSource = {
    name: 'fake events',
    start: async (onEvent) => {
      fire = onEvent
      return async () => { stopped = true }
    },
  }
  let broken = false
  const lister = { name: 'fake', list: async () => { if (broken) throw new Error('lsblk failed'); return [...h.devices] } }
  const done = watch({ log: h.log, signal: h.ac.signal, ingest: h.ingest, lister, hotplug, hasFilesystem: h.hasFilesystem, pollMs: 60_000 })
  await until(() => fire !== undefined && h.logs.some((l) => l.includes('Watching')), 'start')
  t.match(h.logs.join('\n'), /Watching for USB sticks \(fake events \+ fake every 60 s\)/)
  broken = true
  fire?.()
  await until(() => h.logs.some((l) => l.includes('Cannot list the USB sticks: lsblk failed')), 'lister error')
  broken = false
  h.devices.push('/dev/sdb1')
  fire?.()
  await until(() => h.ingested.length === 1, 'ingest after the event, long before the 60 s poll')
  t.equal(h.logs.filter((l) => l.includes('Cannot list')).length, 1)
  h.gates.get('/dev/sdb1')?.()
  h.ac.abort()
  await done
  t.ok(stopped, 'hot-plug listener stopped')
})

t.test('stopping while idle ends at once', async (t) => {
  const h = harness()
  const done = watch({ log: h.log, signal: h.ac.signal, ingest: h.ingest, lister: h.lister, hotplug: null, pollMs: 60_000 })
  await until(() => h.logs.some((l) => l.includes('Watching')), 'start')
  h.ac.abort()
  await done
  t.same(h.ingested, [])
})
