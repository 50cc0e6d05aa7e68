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

export interface StartServeOptions {
  config: XsConfig
  timeoutMs?: number
  /** What runs xs-rsync (default: this Node on the built CLI; e.g. prefixed with setpriv to serve as another user). */
  command?: string[]
  /** Where serve logs (default `--no-syslog`; e.g. `--syslog-socket PATH`). */
  logArgs?: string[]
}

/**
 * `xs-rsync serve` on a free port of 127.0.0.1, resolved once the daemon
 * answers. If it does not, the error says on its first line (all that tap
 * shows) whether serve had exited and what it wrote.
 */
export const startServe = async ({ config, timeoutMs = 20_000, command = [process.execPath, XS_BIN], logArgs = ['--no-syslog'] }: StartServeOptions): Promise<Served> => {
  const port = await freePort()
  const [cmd = process.execPath, ...pre] = command
  const child = spawn(cmd, [...pre, 'serve', '--address', '127.0.0.1', '--port', String(port), ...configArgs(config), ...logArgs],
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
    const how = exited ? `it exited with ${child.exitCode ?? child.signalCode}` : 'it was still running'
    await stop()
    throw new Error(`xs-rsync serve did not start: ${(er as Error).message}; ${how}; it wrote: ${out.trim().replace(/\n/g, ' | ') || '(nothing)'}`)
  }
  return { port, output: () => out, stop }
}
