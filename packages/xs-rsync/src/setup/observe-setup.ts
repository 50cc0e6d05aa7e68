import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { lstat, readFile } from 'node:fs/promises'
import type { ObservedState } from './setup-plan.js'

const MAX_TEXT = 1024 * 1024

/** The user's ids from the passwd database (getent), or undefined when there is no such user. */
export const lookupUser = (name: string): Promise<{ uid: number, gid: number } | undefined> =>
  new Promise((resolve) => {
    execFile('getent', ['passwd', name], { timeout: 10_000 }, (er, stdout) => {
      const f = er === null ? stdout.trim().split(':') : []
      resolve(f.length >= 4 ? { uid: Number(f[2]), gid: Number(f[3]) } : undefined)
    })
  })

/** What planSetup needs to know about the machine: the given paths (under `prefix`), the user, systemd and udev. */
export const observeSetup = async (paths: readonly string[], prefix: string, user: string): Promise<ObservedState> => {
  const found: [string, { dir: boolean, mode: number, uid: number, gid: number, text?: string }][] = []
  for (const p of new Set(paths)) {
    const st = await lstat(prefix + p).catch(() => undefined)
    if (st === undefined) continue
    const text = st.isFile() && st.size <= MAX_TEXT ? await readFile(prefix + p, 'utf8') : undefined
    found.push([p, { dir: st.isDirectory(), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, ...(text !== undefined && { text }) }])
  }
  const ids = await lookupUser(user)
  const onHost = prefix === ''
  return {
    paths: new Map(found),
    ...(ids !== undefined && { user: ids }),
    systemd: onHost && existsSync('/run/systemd/system'),
    udev: onHost && existsSync('/run/udev/control'),
  }
}
