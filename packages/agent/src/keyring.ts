import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { readKeys, type Key, type PublicKey } from 'openpgp'
import { silentLog, XsError, type LogFn } from '@xs-rsync/core'

/** A key file bigger than this is not a key file. */
export const MAX_KEY_FILE_BYTES = 1024 * 1024

/** The only files of the keyring folder that are read, as apt's trusted.gpg.d (which reads *.asc and *.gpg). */
export const KEY_FILE_RE = /\.(asc|gpg|pgp)$/i

/** A key found in the keyring folder that does not count, and why. */
export interface DroppedKey {
  /** The file(s) holding it (", "-separated when several copies). */
  file: string
  fingerprint: string
  /** Its first user ID, or "no user id". */
  userID: string
  keyIDs: string[]
  reason: string
}

export interface Keyring {
  dir: string
  /** The folder exists (a missing folder reads as an empty keyring). */
  exists: boolean
  /** Usable signing keys (public parts only), every copy of each merged. */
  keys: PublicKey[]
  /** Keys present but not usable (expired, revoked, no signing key). */
  dropped: DroppedKey[]
}

/** One key file of the folder and the keys it holds. */
export interface KeyFile {
  file: string
  keys: Key[]
}

/** What the keyring folder holds, before anything is decided about it. */
export interface KeyringFolder {
  dir: string
  exists: boolean
  /** Readable key files (a secret key among them is the caller's to refuse). */
  files: KeyFile[]
  /** Key files that hold no readable key. */
  problems: { file: string, reason: string }[]
  /** Other entries: never read. */
  ignored: { file: string, reason: string }[]
}

const ARMOR_BLOCK_RE = /-----BEGIN PGP (?:PUBLIC|PRIVATE) KEY BLOCK-----[\s\S]*?-----END PGP (?:PUBLIC|PRIVATE) KEY BLOCK-----/g

/** Every key in one file: armored (one or many blocks) or binary (one or many keys). */
export const parseKeyFile = async (data: Buffer): Promise<Key[]> => {
  const text = data.toString('latin1')
  if (text.includes('-----BEGIN PGP')) {
    const blocks = text.match(ARMOR_BLOCK_RE) ?? []
    if (blocks.length === 0) throw new Error('no PGP key block in this armored file')
    return (await Promise.all(blocks.map((armoredKeys) => readKeys({ armoredKeys })))).flat()
  }
  return readKeys({ binaryKeys: new Uint8Array(data) })
}

/** The first user ID of a key, for people. */
export const firstUserID = (key: Key): string => key.getUserIDs()[0] ?? 'no user id'

/** "FINGERPRINT (user id)". */
export const describeKeyBrief = (key: Key): string => `${key.getFingerprint().toUpperCase()} (${firstUserID(key)})`

/** Why `key` cannot verify signatures made now (`date`), or undefined when it can. */
export const unusableReason = async (key: Key, date: Date): Promise<string | undefined> => {
  try {
    await key.getSigningKey(undefined, date)
    return undefined
  } catch (er) {
    if (await key.isRevoked(undefined, undefined, date).catch(() => false)) return 'revoked'
    const exp = await key.getExpirationTime().catch(() => null)
    if (exp instanceof Date && exp <= date) return `expired on ${exp.toISOString()}`
    return `no valid signing key (${(er as Error).message})`
  }
}

/** Every key in one file, read within the size limit; throws naming the reason. */
export const readKeyFile = async (file: string): Promise<Key[]> => {
  const st = await stat(file)
  if (!st.isFile()) throw new Error('not a regular file')
  if (st.size > MAX_KEY_FILE_BYTES) throw new Error(`larger than ${MAX_KEY_FILE_BYTES} bytes`)
  return parseKeyFile(await readFile(file))
}

/**
 * Read the keyring folder: only regular files named *.asc, *.gpg or *.pgp are
 * read (anything else, a stray README, is listed as ignored); a key file that
 * holds no readable key is a problem. A missing folder exists: false; any
 * other error reading the folder is E_KEYRING.
 */
export const readKeyringFolder = async (dir: string): Promise<KeyringFolder> => {
  const out: KeyringFolder = { dir, exists: true, files: [], problems: [], ignored: [] }
  let names: string[]
  try {
    names = (await readdir(dir)).sort()
  } catch (er) {
    if ((er as NodeJS.ErrnoException).code === 'ENOENT') return { ...out, exists: false }
    throw new XsError('E_KEYRING', `cannot read keyring folder ${dir}: ${(er as Error).message}`, { path: dir, cause: er })
  }
  for (const name of names) {
    const file = join(dir, name)
    if (!KEY_FILE_RE.test(name)) {
      out.ignored.push({ file, reason: 'not a key file (only *.asc, *.gpg and *.pgp files are read)' })
      continue
    }
    const st = await stat(file).catch(() => undefined)
    if (st !== undefined && !st.isFile()) {
      out.ignored.push({ file, reason: 'not a regular file' })
      continue
    }
    try {
      out.files.push({ file, keys: await readKeyFile(file) })
    } catch (er) {
      out.problems.push({ file, reason: `not a readable OpenPGP key file: ${(er as Error).message}` })
    }
  }
  return out
}

/** One key as the keyring sees it: every copy in every file merged. */
export interface MergedKey {
  key: Key
  files: string[]
}

/**
 * Merge every copy of each fingerprint, in any file and any order, as GnuPG
 * does on import: a revocation or a new expiry in one copy counts for all.
 */
export const mergeCopies = async (files: KeyFile[], date = new Date()): Promise<MergedKey[]> => {
  const byFpr = new Map<string, MergedKey>()
  for (const { file, keys } of files) {
    for (const key of keys) {
      const fpr = key.getFingerprint().toUpperCase()
      const had = byFpr.get(fpr)
      if (had === undefined) {
        byFpr.set(fpr, { key, files: [file] })
        continue
      }
      // a public copy merged into a secret one stays secret; the caller refuses secret keys anyway
      had.key = await had.key.update(key as PublicKey, date).catch(() => had.key)
      if (!had.files.includes(file)) had.files.push(file)
    }
  }
  return [...byFpr.values()]
}

/** A secret key in the keyring folder: E_KEYRING naming it. */
export const secretKeyError = (file: string, key: Key): XsError =>
  new XsError('E_KEYRING', `${file} holds the SECRET key ${describeKeyBrief(key)}: a server keyring holds public keys only; ` +
    `remove that file ("xs-rsync keys add" the public key instead) and keep the secret key at the NOC`,
  { path: file, entry: key.getFingerprint().toUpperCase() })

/**
 * Load the trusted NOC keys from `dir` (see readKeyringFolder for which
 * files). Every copy of a fingerprint counts: the copies are merged, so a
 * revocation in any file revokes the key. Keys that are expired, revoked or
 * cannot sign at `date` are dropped with a warning. A missing folder is an
 * empty keyring with `exists: false` (security-mode decides what that
 * means); a key file that holds no readable key, or a secret key, is
 * E_KEYRING (a typo in a trusted key must not go unnoticed).
 */
export const loadKeyring = async (dir: string, opts: { log?: LogFn, date?: Date } = {}): Promise<Keyring> => {
  const log = opts.log ?? silentLog
  const date = opts.date ?? new Date()
  const folder = await readKeyringFolder(dir)
  const ring: Keyring = { dir, exists: folder.exists, keys: [], dropped: [] }
  if (!folder.exists) {
    log('notice', `Keyring folder ${dir} does not exist: no trusted NOC keys`)
    return ring
  }
  const problem = folder.problems[0]
  if (problem !== undefined) {
    throw new XsError('E_KEYRING', `${problem.file} is ${problem.reason}; fix or remove it ("xs-rsync keys list" shows every key file)`,
      { path: problem.file })
  }
  for (const f of folder.files) {
    const secret = f.keys.find((k) => k.isPrivate())
    if (secret !== undefined) throw secretKeyError(f.file, secret)
  }
  for (const i of folder.ignored) log('warning', `Ignoring ${i.file} in the keyring folder: ${i.reason}`)
  for (const { key, files } of await mergeCopies(folder.files, date)) {
    const where = files.join(', ')
    const reason = await unusableReason(key, date)
    if (reason === undefined) {
      ring.keys.push(key as PublicKey)
      log('info', `Trusted NOC key ${describeKeyBrief(key)} from ${where}`)
    } else {
      ring.dropped.push({
        file: where, fingerprint: key.getFingerprint().toUpperCase(), userID: firstUserID(key),
        keyIDs: key.getKeyIDs().map((k) => k.toHex().toUpperCase()), reason,
      })
      log('warning', `Key ${describeKeyBrief(key)} in ${where} does not count: ${reason}`)
    }
  }
  return ring
}
