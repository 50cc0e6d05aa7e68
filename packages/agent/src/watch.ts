import { setTimeout as sleep } from 'node:timers/promises'
import { describeError, toXsError, type LogFn } from '@xs-rsync/core'
import { diffDevices } from './diff-devices.js'
import { probeFilesystem } from './probe-filesystem.js'
import { loadDriveLister, type DriveLister } from './removable-drives.js'
import { loadUsbEvents, type HotplugSource } from './usb-events.js'

export interface WatchOptions {
  log: LogFn
  /** Stops the watcher; also handed to the running ingest. */
  signal: AbortSignal
  /** Ingest one device. Its failure is logged, never fatal to the watcher. */
  ingest: (device: string, signal: AbortSignal) => Promise<void>
  /** Look for sticks this often (ms). Default 3 s, or 30 s when hot-plug events work. */
  pollMs?: number
  /** Injected for tests; default: drivelist, else sysfs. */
  lister?: DriveLister
  /** Injected for tests; default: the usb package, when it loads. null: none. */
  hotplug?: HotplugSource | null
  /** Does the device hold a filesystem? Default: blkid. */
  hasFilesystem?: (device: string) => Promise<boolean>
}

/** After a hot-plug event the block device shows up a little later: look again at these delays. */
const AFTER_EVENT_MS = [500, 1500, 3000, 6000, 10_000]

const defaultHasFilesystem = async (device: string): Promise<boolean> =>
  (await probeFilesystem(device)).usage === 'filesystem'

/** A sleep that a hot-plug event or the stop signal cuts short. */
class Alarm {
  #wake: (() => void) | undefined
  ring (): void {
    this.#wake?.()
  }

  async wait (ms: number, signal: AbortSignal): Promise<void> {
    const ac = new AbortController()
    const stop = (): void => ac.abort()
    signal.addEventListener('abort', stop, { once: true })
    this.#wake = stop
    await sleep(ms, undefined, { signal: ac.signal }).catch(() => {})
    signal.removeEventListener('abort', stop)
    this.#wake = undefined
  }
}

/**
 * Watch for USB sticks and ingest each new one, one at a time, until
 * `signal` aborts. Sticks already plugged in at start are listed, not
 * ingested. Detection: the lister is polled (bounded interval) and hot-plug
 * events make it look again at once. Errors are logged; the watcher goes on.
 * Resolves when stopped and the running ingest (if any) has ended.
 */
export const watch = async (opts: WatchOptions): Promise<void> => {
  const { log, signal } = opts
  let lister = opts.lister
  if (lister === undefined) {
    const l = await loadDriveLister()
    if (l.why !== undefined) log('warning', `${l.why}; finding sticks through sysfs instead`)
    lister = l.lister
  }
  let hotplug = opts.hotplug
  if (hotplug === undefined) {
    hotplug = await loadUsbEvents().catch((er: Error) => {
      log('info', `USB hot-plug events unavailable: ${er.message.split('\n')[0]}`)
      return null
    })
  }
  const pollMs = opts.pollMs ?? (hotplug === null ? 3000 : 30_000)
  const hasFilesystem = opts.hasFilesystem ?? defaultHasFilesystem
  const alarm = new Alarm()
  let pending: number[] = []
  let stopEvents: (() => Promise<void>) | undefined
  if (hotplug !== null) {
    try {
      stopEvents = await hotplug.start(() => {
        pending = [...AFTER_EVENT_MS]
        alarm.ring()
      })
    } catch (er) {
      log('warning', `USB hot-plug events failed to start: ${(er as Error).message}`)
      hotplug = null
    }
  }
  log('notice', `Watching for USB sticks (${[hotplug?.name, `${lister.name} every ${pollMs / 1000} s`].filter(Boolean).join(' + ')})`)

  let lastError = ''
  const look = async (): Promise<string[] | undefined> => {
    try {
      const now = await lister.list()
      lastError = ''
      return now
    } catch (er) {
      const msg = (er as Error).message
      if (msg !== lastError) log('warning', `Cannot list the USB sticks: ${msg}`)
      lastError = msg
      return undefined
    }
  }

  let known = new Set((await look()) ?? [])
  if (known.size > 0) {
    log('info', `Already plugged in (not ingested; run "xs-rsync ingest DEVICE" for these): ${[...known].join(', ')}`)
  }
  const queue: string[] = []
  let busy: string | undefined
  let worker: Promise<void> = Promise.resolve()

  const work = async (): Promise<void> => {
    for (let device = queue.shift(); device !== undefined && !signal.aborted; device = queue.shift()) {
      busy = device
      try {
        if (!(await hasFilesystem(device))) {
          log('info', `${device} holds no filesystem; ignored`)
          continue
        }
        log('notice', `USB stick ${device}: ingesting`)
        await opts.ingest(device, signal)
      } catch (er) {
        log('err', `${device}: FAILED: ${describeError(toXsError(er))}`)
      } finally {
        busy = undefined
      }
    }
  }

  try {
    while (!signal.aborted) {
      const now = await look()
      if (now !== undefined) {
        const { added, removed } = diffDevices(known, now)
        known = new Set(now)
        for (const d of removed) {
          const i = queue.indexOf(d)
          if (i >= 0) queue.splice(i, 1)
          log('info', `${d} was removed${i >= 0 ? ' before its turn' : ''}`)
        }
        for (const d of added) {
          queue.push(d)
          if (busy !== undefined) log('notice', `USB stick ${d} plugged in; it waits until ${busy} is done`)
        }
        if (busy === undefined && queue.length > 0) worker = work()
      }
      await alarm.wait(pending.shift() ?? pollMs, signal)
    }
  } finally {
    await stopEvents?.()
    await worker
    log('notice', 'Stopped watching for USB sticks')
  }
}
