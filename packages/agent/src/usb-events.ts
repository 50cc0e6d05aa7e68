import { stat } from 'node:fs/promises'

/** Something that says "a device came or went"; the watcher then looks again. */
export interface HotplugSource {
  name: string
  /** Start listening; resolves to a function that stops it. */
  start(onEvent: () => void): Promise<() => Promise<void>>
}

/** The native emitter of the `usb` package (3.x, node-usb-rs). */
interface NativeEmitter {
  addAttach(cb: (device: unknown) => void): Promise<void>
  removeAttach(): Promise<void>
  addDetach(cb: (handle: unknown) => void): Promise<void>
  removeDetach(): Promise<void>
}

/**
 * USB attach/detach events from the optional `usb` package. Its native
 * Emitter is used directly: the package's WebUSB wrapper lists devices at
 * start without catching, an unhandled rejection on a machine without a USB
 * bus. Rejects (with the reason) when the package or a USB bus is missing.
 */
export const loadUsbEvents = async (sysUsb = '/sys/bus/usb'): Promise<HotplugSource> => {
  const name = 'usb/index.js' // a variable: an optional dependency must not be resolved at build time
  const mod = (await import(name)) as { Emitter?: new () => NativeEmitter }
  const Emitter = mod.Emitter
  if (typeof Emitter !== 'function') throw new Error('the usb package has no native Emitter')
  if (!(await stat(sysUsb).then((s) => s.isDirectory(), () => false))) throw new Error(`no USB bus on this machine (${sysUsb} is missing)`)
  return {
    name: 'usb hot-plug events',
    start: async (onEvent) => {
      const em = new Emitter()
      await em.addAttach(() => onEvent())
      await em.addDetach(() => onEvent())
      return async () => {
        await em.removeAttach().catch(() => {})
        await em.removeDetach().catch(() => {})
      }
    },
  }
}
