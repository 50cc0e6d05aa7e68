import { connect, createServer } from 'node:net'

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      s.close(() => { typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port')) })
    })
  })

/**
 * Resolves once an rsync daemon answers on 127.0.0.1:port with its "@RSYNCD:"
 * greeting; rejects after `ms`. A bare accepted connection is not enough:
 * `xs-rsync serve` first listens on the port itself for a moment to check it
 * is free, and a connection landing then was taken for the daemon (a CI run
 * then had "Connection refused" from the next rsync call).
 */
export const waitForRsyncd = async (port: number, ms: number, alive: () => boolean = () => true): Promise<void> => {
  const until = Date.now() + ms
  while (Date.now() < until && alive()) {
    const ok = await new Promise<boolean>((resolve) => {
      let got = ''
      const c = connect(port, '127.0.0.1')
      const end = (v: boolean): void => { c.destroy(); resolve(v) }
      c.setTimeout(2_000, () => end(false))
      c.on('data', (d: Buffer) => {
        got += d.toString('latin1')
        if (got.startsWith('@RSYNCD:')) end(true)
        else if (got.length >= 8) end(false)
      })
      c.on('error', () => end(false))
      c.on('close', () => end(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`no rsync daemon answered on 127.0.0.1:${port} within ${ms} ms`)
}
