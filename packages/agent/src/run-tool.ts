import { spawn } from 'node:child_process'
import { XsError } from '@xs-rsync/core'

export interface ToolResult {
  /** Exit status; -1 when killed by a signal (the timeout). */
  code: number
  stdout: string
  stderr: string
}

export interface RunToolOptions {
  /** Kill the tool after this long. Default 60 s. */
  timeoutMs?: number
}

/**
 * Run a system tool without a shell, bounded in time; a missing tool is
 * E_TOOL_MISSING. Resolves with the exit status: judging it is the caller's job.
 */
export const runTool = (cmd: string, args: string[], opts: RunToolOptions = {}): Promise<ToolResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 60_000,
      env: { ...process.env, LC_ALL: 'C' },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { if (stderr.length < 65536) stderr += d.toString() })
    child.on('error', (er: NodeJS.ErrnoException) => {
      reject(er.code === 'ENOENT'
        ? new XsError('E_TOOL_MISSING', `${cmd} is not installed (or not on PATH)`, { path: cmd, cause: er })
        : new XsError('E_IO', `cannot run ${cmd}: ${er.message}`, { path: cmd, cause: er }))
    })
    child.on('close', (code) => {
      resolve({ code: code ?? -1, stdout, stderr })
    })
  })
