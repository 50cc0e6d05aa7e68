import { spawn } from 'node:child_process'
import { XsError } from '@xs-rsync/core'
import { S_IFBLK, S_IFCHR, S_IFMT, type ServedEntry, type InodeMeta } from './inode-meta.js'

/** The xattr rsync's "fake super" keeps privileged attributes in. */
export const FAKE_SUPER_XATTR = 'user.rsync.%stat'
/** Where fake super keeps a non-user xattr (security.capability). */
export const FAKE_SUPER_CAPABILITY = 'user.rsync.security.capability'

/** Value of user.rsync.%stat: "<octal mode> <major>,<minor> <uid>:<gid>". */
export const fakeSuperStat = (m: InodeMeta): string => {
  const type = m.mode & S_IFMT
  const dev = type === S_IFCHR || type === S_IFBLK ? `${m.devmajor},${m.devminor}` : '0,0'
  return `${m.mode.toString(8)} ${dev} ${m.uid}:${m.gid}`
}

/** A name as getfattr writes it: bytes outside printable ASCII, and backslash, as \ooo. */
export const quoteFattrName = (bytes: Buffer): string => {
  let out = ''
  for (const b of bytes) out += b > 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : '\\' + b.toString(8).padStart(3, '0')
  return out
}

/**
 * The dump `setfattr --restore` reads (getfattr's format), one block per
 * name, paths relative to the served root ("." for the root itself);
 * file capabilities go to user.rsync.security.capability (base64), which
 * rsync's fake super serves as security.capability. Pure; the output is ASCII.
 */
export const renderFattrDump = (entries: Iterable<ServedEntry>): string => {
  let out = ''
  for (const { path, meta } of entries) {
    const name = path === '' ? '.' : quoteFattrName(Buffer.from(path, 'latin1'))
    const cap = meta.capability === undefined ? '' : `${FAKE_SUPER_CAPABILITY}=0s${meta.capability.toString('base64')}\n`
    out += `# file: ${name}\n${FAKE_SUPER_XATTR}="${fakeSuperStat(meta)}"\n${cap}\n`
  }
  return out
}

/**
 * Apply a dump in one `setfattr --restore` run with cwd = the served root.
 * A filesystem without user xattrs is E_OWNERSHIP; no setfattr is E_TOOL_MISSING.
 */
export const applyFattrDump = (root: string, dumpFile: string): Promise<void> =>
  new Promise((resolve, reject) => {
    const child = spawn('setfattr', [`--restore=${dumpFile}`], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d: Buffer) => { if (err.length < 4096) err += d.toString() })
    child.on('error', (er) => reject(new XsError('E_TOOL_MISSING', `cannot run setfattr (Debian package "attr"): ${er.message}`, { cause: er })))
    child.on('close', (code, signal) => {
      if (code === 0 && err === '') return resolve()
      const why = /not supported/i.test(err)
        ? `the filesystem of ${root} does not support user xattrs (mount it with user_xattr, or use the fakeroot backend)`
        : `setfattr failed (${signal ?? `exit ${code}`}): ${err.trim().split('\n').slice(0, 3).join('; ')}`
      reject(new XsError('E_OWNERSHIP', `cannot record ownership for ${root}: ${why}`, { path: root }))
    })
  })
