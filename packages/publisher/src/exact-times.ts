import { spawn } from 'node:child_process'
import { XsError } from '@xs-rsync/core'
import { exactTimeText, type ExactTime } from './file-time.js'

/** sort's own memory: it spills to `tmp` beyond this. */
const SORT_MEMORY = '16M'
/** Path bytes handed to one `xargs` (which splits them into touch calls within the kernel's argument limit). */
const BATCH_BYTES = 1024 * 1024

/**
 * One record of the exact-times spool: a name (relative to the served root,
 * byte string, '' = the root) whose mtime has nanoseconds, which Node cannot
 * set. NUL-terminated; `TIME<TAB>PATH`, TIME as `touch -d @TIME` takes it. Pure.
 */
export const exactTimeRecord = (time: ExactTime, path: string): string =>
  `${exactTimeText(time)}\t${path === '' ? '.' : path}\0`

const run = async (cmd: string, args: string[], opts: { cwd?: string, input?: Buffer }, onOut?: (chunk: Buffer) => Promise<void>): Promise<void> => {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, LC_ALL: 'C' }, stdio: [opts.input === undefined ? 'ignore' : 'pipe', onOut === undefined ? 'ignore' : 'pipe', 'pipe'] })
  let err = ''
  child.stderr?.on('data', (d: Buffer) => { if (err.length < 4096) err += d.toString() })
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', (er) => reject(new XsError('E_TOOL_MISSING', `cannot run ${cmd} (Debian package "${cmd === 'xargs' ? 'findutils' : 'coreutils'}"): ${er.message}`, { cause: er })))
    child.on('close', (code) => resolve(code))
  })
  if (opts.input !== undefined) {
    child.stdin?.on('error', () => { /* the exit status tells */ })
    child.stdin?.end(opts.input)
  }
  try {
    if (onOut !== undefined && child.stdout !== null) for await (const chunk of child.stdout) await onOut(chunk as Buffer)
  } catch (er) {
    child.kill()
    await exited.catch(() => undefined)
    throw er
  }
  const code = await exited
  if (code !== 0) {
    throw new XsError('E_IO', `${cmd} ${args.slice(0, 6).join(' ')} failed (exit ${code}): ${err.trim().split('\n').slice(0, 3).join('; ')}`, { path: opts.cwd })
  }
}

/**
 * Give each name of `spool` (exactTimeRecord lines) its exact mtime, as GNU
 * tar restores it: names sharing a time take one `touch -h -c -m -d @TIME`
 * (through `xargs -0`, which keeps within the kernel's argument limit and
 * passes any bytes of a name); only the mtime changes, symlinks are not
 * followed. Run after every other write into the tree (a child's touch does
 * not change its folder's time). The spool is sorted by `sort -z` (bounded
 * memory), so memory does not grow with the names.
 */
export const applyExactTimes = async (root: string, spool: string, tmp: string): Promise<number> => {
  let time = ''
  let batch: Buffer[] = []
  let bytes = 0
  let names = 0
  let rest = ''
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return
    const input = Buffer.concat(batch)
    batch = []
    bytes = 0
    await run('xargs', ['-0', '-r', 'touch', '-h', '-c', '-m', '-d', `@${time}`, '--'], { cwd: root, input })
  }
  await run('sort', ['-z', '-S', SORT_MEMORY, '-T', tmp, '--', spool], {}, async (chunk) => {
    const text = rest + chunk.toString('latin1')
    let at = 0
    for (let nul = text.indexOf('\0'); nul >= 0; nul = text.indexOf('\0', at)) {
      const rec = text.slice(at, nul)
      at = nul + 1
      const tab = rec.indexOf('\t')
      const t = rec.slice(0, tab)
      if (t !== time || bytes >= BATCH_BYTES) {
        await flush()
        time = t
      }
      const path = Buffer.from(rec.slice(tab + 1) + '\0', 'latin1')
      batch.push(path)
      bytes += path.length
      names++
    }
    rest = text.slice(at)
  })
  if (rest !== '') throw new XsError('E_INTERNAL', `${spool} ends inside a record`, { path: spool })
  await flush()
  return names
}
