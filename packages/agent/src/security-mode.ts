import { XsError, type SecurityMode } from '@xs-rsync/core'
import type { DroppedKey } from './keyring.js'

export interface ResolvedSecurity {
  mode: SecurityMode
  /** Why, for the log. */
  why: string
}

/** What security-mode needs to know about the keyring and the server. */
export interface TrustState {
  /** The keyring folder. */
  dir: string
  /** It exists. */
  exists: boolean
  /** Usable keys in it. */
  usable: number
  /** Keys in it that do not count (expired, revoked, cannot sign). */
  dropped: readonly DroppedKey[]
  /** The folder is the built-in default (`/etc/xs-rsync/keys`), not one the admin configured. */
  defaultPlace: boolean
  /** This server has trusted a NOC key before (ROOT/state/keys-trusted, or a build record signed by one). */
  trustedBefore: boolean
}

/** What the NOC and the admin must do when no key counts. */
const ADVICE = 'The NOC must sign sticks with a current key and the admin must install its public key here ' +
  '("xs-rsync keys add NOC.asc"); to extend an expired key, the NOC runs "gpg --quick-set-expire FPR 2y", exports it ' +
  'and the admin adds it again. Until then every stick is refused'

/** "KEY (user id) in FILE: expired on ..." for each key that does not count. Pure. */
const droppedList = (dropped: readonly DroppedKey[]): string =>
  dropped.map((d) => `${d.fingerprint} (${d.userID}) in ${d.file}: ${d.reason}`).join('; ')

/** E_KEYRING: enforcing, but no key counts. Pure. */
export const noUsableKeyError = (t: Pick<TrustState, 'dir' | 'dropped'>, why: string): XsError =>
  new XsError('E_KEYRING', t.dropped.length > 0
    ? `security is enforcing (${why}) but no key in ${t.dir} counts: ${droppedList(t.dropped)}. ${ADVICE}`
    : `security is enforcing (${why}) but ${t.dir} holds no NOC key. ${ADVICE}`,
  { path: t.dir, ...(t.dropped[0] !== undefined && { entry: t.dropped[0].fingerprint }) })

/**
 * The mode in force. Trust never drops by itself:
 * - `security = permissive` (or --security permissive): permissive;
 * - `security = enforcing`: enforcing;
 * - unset: enforcing, with one exception, a fresh install: the keyring
 *   folder is at its default place and holds no key at all (absent, or the
 *   empty folder setup made), and this server never trusted a key. That is
 *   the original's "no /etc/xs-security-on".
 * Enforcing with no usable key (all expired or revoked, or none) is
 * E_KEYRING naming each key and what to do; a configured keyring folder that
 * does not exist is E_KEYRING (a mistyped path must not turn checks off).
 * Pure.
 */
export const resolveSecurityMode = (configured: SecurityMode | undefined, t: TrustState): ResolvedSecurity => {
  if (configured === 'permissive') return { mode: 'permissive', why: 'as configured (security = permissive)' }
  const none = t.usable === 0 && t.dropped.length === 0
  if (!t.exists && !t.defaultPlace) {
    throw new XsError('E_KEYRING', `the keyring folder ${t.dir} (keyring = ${t.dir}) does not exist: fix the keyring setting ` +
      '(a mistyped path must not turn signature checks off), or set security = permissive to accept unsigned sticks', { path: t.dir })
  }
  if (configured === undefined && none && t.defaultPlace && !t.trustedBefore) {
    return {
      mode: 'permissive',
      why: `fresh install: ${t.dir} ${t.exists ? 'holds no key' : 'does not exist'} and this server never trusted a NOC key`,
    }
  }
  const why = configured === 'enforcing'
    ? 'as configured'
    : t.usable > 0
      ? `${t.dir} holds ${t.usable} usable NOC key${t.usable === 1 ? '' : 's'}`
      : none && t.trustedBefore
        ? `this server has trusted a NOC key before (${t.dir} ${t.exists ? 'is empty' : 'is gone'})`
        : `${t.dir} holds NOC keys`
  if (t.usable === 0) throw noUsableKeyError(t, why)
  return { mode: 'enforcing', why }
}

/**
 * What to do about a manifest's signature. A signature that is present is
 * always verified (and a bad one always refused, whatever the mode); an
 * unsigned manifest is refused when enforcing (E_SIGNATURE_MISSING) and
 * accepted with a warning when permissive. Pure.
 */
export const signaturePolicy = (mode: SecurityMode, signed: boolean, manifest: string): 'verify' | 'accept-unsigned' => {
  if (signed) return 'verify'
  if (mode === 'enforcing') {
    throw new XsError('E_SIGNATURE_MISSING', `${manifest} has no signature (${manifest}.sig) and security is enforcing`,
      { path: manifest })
  }
  return 'accept-unsigned'
}
