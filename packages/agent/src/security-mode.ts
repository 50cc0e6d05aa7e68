import { XsError, type SecurityMode } from '@xs-rsync/core'

export interface ResolvedSecurity {
  mode: SecurityMode
  /** Why, for the log. */
  why: string
}

/**
 * The mode in force: as configured, else enforcing when the keyring holds a
 * usable key and permissive otherwise. Enforcing with no usable key could
 * accept nothing: E_KEYRING. Pure.
 */
export const resolveSecurityMode = (configured: SecurityMode | undefined, usableKeys: number, keyring: string): ResolvedSecurity => {
  if (configured === 'enforcing' && usableKeys === 0) {
    throw new XsError('E_KEYRING', `security is enforcing but ${keyring} holds no usable NOC key: no stick could be accepted`,
      { path: keyring })
  }
  if (configured !== undefined) return { mode: configured, why: 'as configured' }
  return usableKeys > 0
    ? { mode: 'enforcing', why: `${keyring} holds ${usableKeys} usable NOC key${usableKeys === 1 ? '' : 's'}` }
    : { mode: 'permissive', why: `${keyring} holds no usable NOC key` }
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
