import { mkdir, readFile, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { revokeKey as applyRevocation, type AlgorithmInfo, type Key, type PublicKey } from 'openpgp'
import { atomicWrite, silentLog, XsError, type LogFn } from '@xs-rsync/core'
import {
  describeKeyBrief, mergeCopies, readKeyFile as readKeys, readKeyringFolder, unusableReason, type MergedKey,
} from './keyring.js'

/** What a person needs to know about one key. */
export interface KeyInfo {
  /** Upper-case hex. */
  fingerprint: string
  userIDs: string[]
  /** e.g. "RSA 3072", "Ed25519". */
  algorithm: string
  created: string
  /** ISO time, or null when the key never expires. */
  expires: string | null
  revoked: boolean
  /** A secret key (never belongs in a server keyring). */
  secret: boolean
  /** Counts for verifying sticks now. */
  usable: boolean
  /** Why it does not count, when it does not. */
  reason?: string
}

export interface KeyringEntry extends KeyInfo {
  file: string
}

export interface KeyringListing {
  dir: string
  exists: boolean
  keys: KeyringEntry[]
  /** Key files that hold no readable key, or a secret key (ingest refuses to run with them). */
  problems: { file: string, reason: string }[]
  /** Other files in the folder: never read. */
  ignored: { file: string, reason: string }[]
}

const ALGO_NAMES: Record<string, string> = {
  rsaEncryptSign: 'RSA', rsaSign: 'RSA', rsaEncrypt: 'RSA', dsa: 'DSA', elgamal: 'ElGamal',
  eddsaLegacy: 'EdDSA', ed25519: 'Ed25519', ed448: 'Ed448', ecdsa: 'ECDSA', ecdh: 'ECDH', x25519: 'X25519', x448: 'X448',
}

/** "RSA 3072", "Ed25519", "ECDSA nistP256". Pure. */
export const algorithmName = (info: AlgorithmInfo): string => {
  const name = ALGO_NAMES[info.algorithm] ?? info.algorithm
  if (info.algorithm === 'eddsaLegacy' && /^ed25519/i.test(info.curve ?? '')) return 'Ed25519'
  if (info.bits !== undefined) return `${name} ${info.bits}`
  if (info.curve !== undefined && name !== 'Ed25519' && name !== 'Ed448') return `${name} ${info.curve}`
  return name
}

/** The name a key gets in the keyring folder. Pure. */
export const keyFileName = (fingerprint: string): string => `${fingerprint.toUpperCase()}.asc`

/**
 * Fingerprint, user ids, algorithm, expiry, revocation and whether it counts
 * at `date`. `merged` (every copy of the key in the keyring merged) decides
 * expiry, revocation and usability: a copy is as revoked as the key is.
 */
export const describeKey = async (key: Key, date = new Date(), merged: Key = key): Promise<KeyInfo> => {
  const exp = await merged.getExpirationTime().catch(() => null)
  const reason = await unusableReason(merged, date)
  return {
    fingerprint: key.getFingerprint().toUpperCase(),
    userIDs: key.getUserIDs(),
    algorithm: algorithmName(key.getAlgorithmInfo()),
    created: key.getCreationTime().toISOString(),
    expires: exp instanceof Date ? exp.toISOString() : null,
    revoked: await merged.isRevoked(undefined, undefined, date).catch(() => false),
    secret: key.isPrivate(),
    usable: reason === undefined,
    ...(reason !== undefined && { reason }),
  }
}

/** Every key in one file; E_KEYRING naming the file when there is none. */
const readKeyFile = async (file: string): Promise<Key[]> => {
  try {
    return await readKeys(file)
  } catch (er) {
    if ((er as NodeJS.ErrnoException).code === 'ENOENT') throw new XsError('E_NOT_FOUND', `the key file ${file} does not exist`, { path: file, cause: er })
    throw new XsError('E_KEYRING', `${file} is not a readable OpenPGP key file: ${(er as Error).message}`, { path: file, cause: er })
  }
}

/** The keyring as ingest sees it: every fingerprint with all its copies merged. */
const mergedKeyring = async (dir: string, date?: Date): Promise<MergedKey[]> => {
  const folder = await readKeyringFolder(dir)
  return mergeCopies(folder.files, date)
}

/** Fingerprints of the keys that count at `date`. */
const usableFingerprints = async (merged: MergedKey[], date = new Date()): Promise<string[]> => {
  const out: string[] = []
  for (const m of merged) if (!m.key.isPrivate() && await unusableReason(m.key, date) === undefined) out.push(m.key.getFingerprint().toUpperCase())
  return out
}

const LAST_KEY_WARNING = 'this server now refuses every stick until a new NOC key is added ("xs-rsync keys add NEW.asc")'

/**
 * Every key in the keyring folder, usable or not (each copy judged with all
 * copies of its fingerprint merged, as ingest does), the key files that have
 * a problem (no readable key, a secret key) and the files never read.
 */
export const listKeyring = async (dir: string, opts: { date?: Date } = {}): Promise<KeyringListing> => {
  const folder = await readKeyringFolder(dir)
  const merged = await mergeCopies(folder.files, opts.date)
  const byFpr = new Map(merged.map((m) => [m.key.getFingerprint().toUpperCase(), m.key]))
  const out: KeyringListing = { dir, exists: folder.exists, keys: [], problems: [...folder.problems], ignored: folder.ignored }
  for (const { file, keys } of folder.files) {
    for (const key of keys) {
      out.keys.push({ file, ...await describeKey(key, opts.date, byFpr.get(key.getFingerprint().toUpperCase()) ?? key) })
      if (key.isPrivate()) {
        out.problems.push({ file, reason: `holds the SECRET key ${describeKeyBrief(key)}: a server keyring holds public keys only; remove the file` })
      }
    }
  }
  return out
}

const who = (info: KeyInfo): string => `${info.fingerprint} (${info.userIDs[0] ?? 'no user id'})`

/**
 * Trust the public keys in `file`: each is written to DIR/FINGERPRINT.asc
 * (armored, atomically), merged with the copies the keyring already holds.
 * All or nothing: a secret key, or a key that cannot verify signatures now
 * (expired, revoked, no signing capability) and is not in the keyring yet,
 * refuses the whole file with E_KEYRING saying why. A revoked copy of a key
 * the keyring holds revokes it (said as a warning): that is how a
 * revocation reaches a server. An unrevoked copy of a key revoked here does
 * not trust it again (E_KEYRING).
 */
export const addKeys = async (dir: string, file: string, opts: { date?: Date, log?: LogFn } = {}): Promise<KeyInfo[]> => {
  const log = opts.log ?? silentLog
  const date = opts.date ?? new Date()
  const keys = await readKeyFile(file)
  const existing = await mergedKeyring(dir, date)
  const usableBefore = await usableFingerprints(existing, date)
  const plans: { key: Key, merged: Key, info: KeyInfo, had: MergedKey | undefined }[] = []
  for (const key of keys) {
    const info = await describeKey(key, date)
    if (info.secret) {
      throw new XsError('E_KEYRING', `${file} holds the SECRET key ${who(info)}: a server needs only the public key ` +
        `("gpg --armor --export ${info.fingerprint}"); keep the secret key at the NOC`, { path: file, entry: info.fingerprint })
    }
    const had = existing.find((m) => m.key.getFingerprint().toUpperCase() === info.fingerprint)
    const merged = had === undefined ? key : await had.key.update(key as PublicKey, date)
    const mergedInfo = await describeKey(key, date, merged)
    if (!info.usable && !(info.revoked && had !== undefined)) {
      throw new XsError('E_KEYRING', `${file}: key ${who(info)} cannot verify sticks: ${info.reason ?? 'unusable'}`,
        { path: file, entry: info.fingerprint })
    }
    if (info.usable && !mergedInfo.usable) {
      throw new XsError('E_KEYRING', `${file}: key ${who(info)} is ${mergedInfo.reason ?? 'unusable'} in ${had?.files.join(', ') ?? dir}; ` +
        'adding a copy without the revocation does not trust it again', { path: file, entry: info.fingerprint })
    }
    plans.push({ key, merged, info: mergedInfo, had })
  }
  await mkdir(dir, { recursive: true, mode: 0o755 })
  for (const { merged, info, had } of plans) {
    const dest = join(dir, keyFileName(info.fingerprint))
    for (const f of (had?.files ?? []).filter((f) => f !== dest)) {
      log('warning', `Key ${info.fingerprint} is also in ${f}; every copy counts (a revocation in any of them revokes the key)`)
    }
    await atomicWrite(dest, (merged.isPrivate() ? merged.toPublic() : merged).armor(), 0o644)
    if (info.revoked) {
      log('warning', `Key ${who(info)} is now REVOKED on this server (${dest}): sticks signed by it are refused`)
    } else {
      log('notice', `${had === undefined ? 'Added' : 'Updated'} trusted NOC key ${info.fingerprint} (${info.userIDs[0] ?? 'no user id'}, ` +
        `${info.algorithm}, expires ${info.expires ?? 'never'}) as ${dest}`)
    }
  }
  const usableAfter = await usableFingerprints(await mergedKeyring(dir, date), date)
  if (usableBefore.length > 0 && usableAfter.length === 0) log('warning', `No usable NOC key is left in ${dir}: ${LAST_KEY_WARNING}`)
  return plans.map((p) => p.info)
}

/** "0xABCD 1234 ..." -> "ABCD1234..."; a long key ID (16) or fingerprint (40 or 64 hex digits). Pure. */
export const normalizeKeyId = (id: string): string => {
  const hex = id.replace(/\s+/g, '').replace(/^0x/i, '').toUpperCase()
  if (!/^[0-9A-F]+$/.test(hex) || ![16, 40, 64].includes(hex.length)) {
    throw new XsError('E_USAGE', `"${id}" is not a key fingerprint or long key ID (16, 40 or 64 hex digits)`, { actual: id })
  }
  return hex
}

/**
 * Stop trusting the key `id` (fingerprint or long key ID): every file
 * holding a copy is removed, or rewritten without it when it holds other
 * keys too (atomically). E_NOT_FOUND when no file holds it. Removing the
 * last usable key needs `force` (E_USAGE without): the server then refuses
 * every stick until a new key is added, and says so.
 */
export const removeKey = async (dir: string, id: string, opts: { date?: Date, log?: LogFn, force?: boolean } = {}): Promise<KeyringEntry[]> => {
  const log = opts.log ?? silentLog
  const date = opts.date ?? new Date()
  const want = normalizeKeyId(id)
  const folder = await readKeyringFolder(dir)
  const match = (k: Key): boolean => k.getFingerprint().toUpperCase().endsWith(want)
  const hitFiles = folder.files.filter((f) => f.keys.some(match))
  if (hitFiles.length === 0) throw new XsError('E_NOT_FOUND', `no key ${want} in ${dir}`, { path: dir, entry: want, advice: 'Check the fingerprint: "xs-rsync keys list" shows the trusted keys.' })
  const merged = await mergeCopies(folder.files, date)
  const usable = await usableFingerprints(merged, date)
  const left = usable.filter((f) => !f.endsWith(want))
  if (usable.length > 0 && left.length === 0) {
    if (opts.force !== true) {
      throw new XsError('E_USAGE', `key ${want} is the last usable NOC key in ${dir}: without it ${LAST_KEY_WARNING}. ` +
        'Add the new key first, or run "xs-rsync keys remove --force" if that is what you want', { path: dir, entry: want })
    }
    log('warning', `Removing the last usable NOC key ${want} (--force): ${LAST_KEY_WARNING}`)
  }
  const removed: KeyringEntry[] = []
  for (const { file, keys } of hitFiles) {
    const rest = keys.filter((k) => !match(k))
    if (rest.length === 0) await unlink(file)
    else await atomicWrite(file, rest.map((k) => (k.isPrivate() ? k.toPublic() : k).armor()).join(''), 0o644)
    for (const k of keys.filter(match)) {
      const info = await describeKey(k, date)
      removed.push({ file, ...info })
      log('notice', `Removed key ${who(info)} from ${file}` +
        `${rest.length === 0 ? '' : ` (${rest.length} other key${rest.length === 1 ? '' : 's'} kept in it)`}`)
    }
  }
  return removed
}

/** A revocation certificate as GnuPG writes it (openpgp-revocs.d/FPR.rev has ":" before the BEGIN line). Pure. */
export const revocationArmor = (text: string): string => text.replace(/^:(-----BEGIN PGP )/m, '$1')

/**
 * Apply a GnuPG (or `keys generate`) revocation certificate to the trusted
 * copy of its key: the revoked key is written to DIR/FINGERPRINT.asc, and
 * since every copy counts the key is revoked wherever else it is. E_NOT_FOUND
 * when the certificate is for no key in the keyring; E_KEYRING when it is not
 * a revocation certificate or does not verify.
 */
export const revokeKey = async (dir: string, certFile: string, opts: { date?: Date, log?: LogFn } = {}): Promise<KeyInfo> => {
  const log = opts.log ?? silentLog
  const date = opts.date ?? new Date()
  let text: string
  try {
    const st = await stat(certFile)
    if (!st.isFile() || st.size > 64 * 1024) throw new Error('not a regular file of at most 64 KiB')
    text = revocationArmor(await readFile(certFile, 'utf8'))
  } catch (er) {
    throw new XsError('E_NOT_FOUND', `cannot read the revocation certificate ${certFile}: ${(er as Error).message}`, { path: certFile, cause: er })
  }
  if (!text.includes('-----BEGIN PGP ')) {
    throw new XsError('E_KEYRING', `${certFile} is not an armored revocation certificate (gpg --gen-revoke, or FPR.revoke.asc)`, { path: certFile })
  }
  const merged = await mergedKeyring(dir, date)
  const usableBefore = await usableFingerprints(merged, date)
  const reasons: string[] = []
  for (const m of merged) {
    let revoked: Key
    try {
      revoked = (await applyRevocation({ key: (m.key.isPrivate() ? m.key.toPublic() : m.key) as PublicKey, revocationCertificate: text, date, format: 'object' })).publicKey
    } catch (er) {
      const msg = (er as Error).message
      if (/does not match key/.test(msg)) continue
      reasons.push(`${describeKeyBrief(m.key)}: ${msg}`)
      continue
    }
    const info = await describeKey(revoked, date)
    if (!info.revoked) {
      throw new XsError('E_KEYRING', `${certFile} does not revoke ${who(info)} at ${date.toISOString()}`, { path: certFile, entry: info.fingerprint })
    }
    const dest = join(dir, keyFileName(info.fingerprint))
    await atomicWrite(dest, (revoked.isPrivate() ? revoked.toPublic() : revoked).armor(), 0o644)
    log('warning', `Key ${who(info)} is now REVOKED on this server (${dest}, from ${certFile}): sticks signed by it are refused`)
    const usableAfter = await usableFingerprints(await mergedKeyring(dir, date), date)
    if (usableBefore.length > 0 && usableAfter.length === 0) log('warning', `No usable NOC key is left in ${dir}: ${LAST_KEY_WARNING}`)
    return info
  }
  if (reasons.length > 0) {
    throw new XsError('E_KEYRING', `${certFile} is not a valid revocation certificate: ${reasons.join('; ')}`, { path: certFile })
  }
  throw new XsError('E_NOT_FOUND', `${certFile} revokes no key in ${dir} (or is not a revocation certificate)`, { path: certFile })
}
