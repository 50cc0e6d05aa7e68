import { spawn } from 'node:child_process'
import type { XsConfig } from '@xs-rsync/core'
import { freePort, waitForRsyncd } from './free-port.js'
import { configArgs, XS_BIN } from './xs-cli.js'

export interface Served {
  port: number
  /** The daemon's (and xs-rsync's) stderr so far. */
  output: () => string
  /** SIGTERM xs-rsync serve and wait (bounded) for it; resolves to its exit code. */
  stop: () => Promise<number | null>
}

/** `xs-rsync serve` on a free port of 127.0.0.1, resolved once the port accepts connections. */
export const startServe = async ({ config, timeoutMs = 20_000 }: { config: XsConfig, timeoutMs?: number }): Promise<Served> => {
  const port = await freePort()
  const child = spawn(process.execPath, [XS_BIN, 'serve', '--address', '127.0.0.1', '--port', String(port), ...configArgs(config), '--no-syslog'],
    { stdio: ['ignore', 'ignore', 'pipe'] })
  let out = ''
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  let exited = false
  void closed.then(() => { exited = true })
  const stop = async (): Promise<number | null> => {
    if (!exited) child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    const code = await closed
    clearTimeout(timer)
    return code
  }
  try {
    await waitForRsyncd(port, timeoutMs, () => !exited)
  } catch (er) {
    await stop()
    throw new Error(`xs-rsync serve did not start: ${(er as Error).message}\n${out}`)
  }
  return { port, output: () => out, stop }
}
