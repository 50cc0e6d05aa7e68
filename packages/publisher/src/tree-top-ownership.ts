import { spawn } from 'node:child_process'
import { lstat } from 'node:fs/promises'
import { join } from 'node:path'
import { XsError, type Backend } from '@xs-rsync/core'
import { renderFakerootState } from './ownership-fakeroot.js'

/** Served ownership of what publish adds around an unpacked root: the version dir and `contents`. */
const TOP = [
  { rel: '', mode: 0o40755 },
  { rel: 'contents', mode: 0o100644 },
] as const

const setStat = (path: string, value: string): Promise<void> =>
  new Promise((resolve, reject) => {
    const child = spawn('setfattr', ['-h', '-n', 'user.rsync.%stat', '-v', value, path], { stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    child.on('error', (er) => reject(new XsError('E_TOOL_MISSING', `cannot run setfattr (package attr): ${er.message}`, { cause: er })))
    child.on('close', (code) => code === 0 ? resolve()
      : reject(new XsError('E_OWNERSHIP', `cannot set user.rsync.%stat on ${path}: ${err.trim()}`, { path })))
  })

/**
 * Give the version directory `dir` and its `contents` file root ownership for
 * clients: fake-super xattrs set now, or (fakeroot) the save-file lines to
 * add, keyed by their real dev/ino, which renames keep.
 */
export const ownTreeTop = async (dir: string, backend: Backend): Promise<string> => {
  if (backend === 'fake-super') {
    // both at once: the publish waits for this step
    await Promise.all(TOP.map(({ rel, mode }) => setStat(join(dir, rel), `${mode.toString(8)} 0,0 0:0`)))
    return ''
  }
  let lines = ''
  for (const { rel, mode } of TOP) {
    const st = await lstat(join(dir, rel), { bigint: true })
    lines += renderFakerootState([{ dev: st.dev, ino: st.ino, nlink: st.nlink,
      meta: { mode, uid: 0, gid: 0, devmajor: 0, devminor: 0, mtime: Number(st.mtimeMs) / 1000, size: Number(st.size) } }])
  }
  return lines
}
