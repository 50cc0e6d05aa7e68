// A small QMP client (QEMU's JSON control protocol on a unix socket): one
// connection per call, commands answered in order, events kept so a caller
// can wait for one (DEVICE_DELETED after device_del).
import { createConnection, type Socket } from 'node:net'

export interface QmpEvent { event: string, data?: Record<string, unknown> }

export class QmpError extends Error {
  constructor (readonly command: string, readonly cls: string, desc: string) {
    super(`QMP ${command}: ${cls}: ${desc}`)
    this.name = 'QmpError'
  }
}

/** Open a QMP session on `socketPath`, run `fn` with it, close it. Everything bounded by `timeoutMs`. */
export const withQmp = async <T>(socketPath: string, fn: (q: Qmp) => Promise<T>, timeoutMs = 30_000): Promise<T> => {
  const q = await Qmp.connect(socketPath, timeoutMs)
  try { return await fn(q) } finally { q.close() }
}

export class Qmp {
  private buf = ''
  private readonly waiting: Array<(msg: Record<string, unknown>) => boolean> = []
  readonly events: QmpEvent[] = []

  private constructor (private readonly sock: Socket, private readonly timeoutMs: number) {
    sock.setEncoding('utf8')
    sock.on('data', (chunk: string) => {
      this.buf += chunk
      let i
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i).trim()
        this.buf = this.buf.slice(i + 1)
        if (line === '') continue
        const msg = JSON.parse(line) as Record<string, unknown>
        if (typeof msg.event === 'string') this.events.push(msg as unknown as QmpEvent)
        const k = this.waiting.findIndex((w) => w(msg))
        if (k >= 0) this.waiting.splice(k, 1)
      }
    })
  }

  static async connect (path: string, timeoutMs: number): Promise<Qmp> {
    const sock = createConnection(path)
    const q = new Qmp(sock, timeoutMs)
    await new Promise<void>((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject) })
    await q.next((m) => 'QMP' in m, 'greeting')
    await q.execute('qmp_capabilities')
    return q
  }

  private next (match: (m: Record<string, unknown>) => boolean, what: string, ms = this.timeoutMs): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const k = this.waiting.indexOf(w)
        if (k >= 0) this.waiting.splice(k, 1)
        reject(new Error(`QMP: no ${what} within ${ms} ms`))
      }, ms)
      const onClose = (): void => { clearTimeout(timer); reject(new Error(`QMP: connection closed while waiting for ${what}`)) }
      const w = (m: Record<string, unknown>): boolean => {
        if (!match(m)) return false
        clearTimeout(timer)
        this.sock.off('close', onClose)
        resolve(m)
        return true
      }
      this.sock.once('close', onClose)
      this.waiting.push(w)
    })
  }

  /** Run a command; its "return" value, or QmpError. */
  async execute (command: string, args?: Record<string, unknown>): Promise<unknown> {
    const reply = this.next((m) => 'return' in m || 'error' in m, `reply to ${command}`)
    this.sock.write(JSON.stringify(args === undefined ? { execute: command } : { execute: command, arguments: args }) + '\n')
    const m = await reply
    if ('error' in m) {
      const e = m.error as { class?: string, desc?: string }
      throw new QmpError(command, e.class ?? '?', e.desc ?? '?')
    }
    return m.return
  }

  /** Wait for an event (also one that already came on this connection). */
  async event (name: string, match: (data: Record<string, unknown>) => boolean = () => true, ms = this.timeoutMs): Promise<QmpEvent> {
    const seen = this.events.find((e) => e.event === name && match(e.data ?? {}))
    if (seen !== undefined) return seen
    return await this.next((m) => m.event === name && match((m.data ?? {}) as Record<string, unknown>), `event ${name}`, ms) as unknown as QmpEvent
  }

  close (): void { this.sock.destroy() }
}
