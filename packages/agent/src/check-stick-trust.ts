import { resolve } from 'node:path'
import { DEFAULT_CONFIG, silentLog, XsError, type LogFn, type SecurityMode, type XsConfig } from '@xs-rsync/core'
import { loadKeyring, type Keyring } from './keyring.js'
import { parseManifest, type ManifestEntry } from './manifest.js'
import { primaryManifest, type AlsoHash, type StickManifest } from './manifest-files.js'
import { resolveSecurityMode, signaturePolicy, type ResolvedSecurity } from './security-mode.js'
import { markTrusted, trustedBefore } from './trusted-before.js'
import { verifyDetachedSignature, type VerifiedSignature } from './verify-signature.js'

export interface CheckStickTrustOptions {
  config: XsConfig
  /** Overrides config.security. */
  security?: SecurityMode
  /** Overrides config.allowSha1. */
  allowSha1?: boolean
  /** Every manifest on the stick (readStickManifests). */
  manifests: StickManifest[]
  /** --check: change nothing (no trust marker written). */
  check?: boolean
  log?: LogFn
  date?: Date
}

/** What the stick is trusted for. */
export interface StickTrust {
  security: ResolvedSecurity
  /** The manifest the stick is read by. */
  manifest: StickManifest
  entries: ManifestEntry[]
  /** Its accepted signature; absent when unsigned (permissive only). */
  signature?: VerifiedSignature
  /** For files of `entries` that other manifests list too: their hashes, to be checked while copying. */
  alsoListed: Map<string, AlsoHash[]>
}

/** "signed by NOC key FPR (user id)" or "unsigned". Pure. */
export const describeSigner = (sig: VerifiedSignature | undefined): string =>
  sig === undefined ? 'unsigned' : `signed by NOC key ${sig.fingerprint} (${sig.userID})`

/** Verify one manifest's signature; a key in the keyring that does not count is named with its reason. */
const verifyOne = async (m: StickManifest & { signature: NonNullable<StickManifest['signature']> }, ring: Keyring, date: Date | undefined): Promise<VerifiedSignature> => {
  try {
    return await verifyDetachedSignature({
      data: m.manifest.bytes, signature: m.signature.bytes, keys: ring.keys, where: m.signature.path, ...(date && { date }),
    })
  } catch (er) {
    const ids = String((er as XsError).actual ?? '').split(',')
    const dropped = ring.dropped.find((d) => d.keyIDs.some((k) => ids.includes(k)))
    if (er instanceof XsError && dropped !== undefined) {
      throw new XsError('E_SIGNATURE_BAD', `${er.message}; the signing key ${dropped.fingerprint} (${dropped.userID}, in ${dropped.file}) ` +
        `does not count: ${dropped.reason}. The NOC must sign with a current key (and the admin add it with "xs-rsync keys add")`,
      { path: m.signature.path, cause: er })
    }
    throw er
  }
}

/**
 * The trust stage of an ingest: load the keyring, decide the security mode
 * (security-mode.ts: trust never drops by itself), then make the stick's
 * manifests unambiguous:
 * - every signed manifest must verify (a .sig holds exactly one signature);
 * - the stick is read by the signed manifest (sha256 before sha1), else,
 *   permissive only, by the unsigned one;
 * - in enforcing mode a stick whose only signed manifest is manifest.sha1 is
 *   refused (E_MANIFEST) unless allow-sha1, then accepted with a warning;
 * - every other manifest must parse, and the hash it gives for a file the
 *   stick is read by is checked too while the file is copied (alsoListed).
 */
export const checkStickTrust = async (opts: CheckStickTrustOptions): Promise<StickTrust> => {
  const log = opts.log ?? silentLog
  const { config } = opts
  const ring = await loadKeyring(config.keyring, { log, ...(opts.date && { date: opts.date }) })
  const security = resolveSecurityMode(opts.security ?? config.security, {
    dir: config.keyring,
    exists: ring.exists,
    usable: ring.keys.length,
    dropped: ring.dropped,
    defaultPlace: resolve(config.keyring) === resolve(DEFAULT_CONFIG.keyring),
    trustedBefore: await trustedBefore(config),
  })
  log('notice', `Security is ${security.mode} (${security.why})`)
  if (opts.check !== true) await markTrusted(config, ring.keys.map((k) => k.getFingerprint().toUpperCase()), log)

  const sigs = new Map<StickManifest, VerifiedSignature>()
  for (const m of opts.manifests) {
    if (m.signature === undefined) continue
    const sig = await verifyOne({ ...m, signature: m.signature }, ring, opts.date)
    log('notice', `Signature ${m.signature.path} is valid: signed ${sig.created.toISOString()} by NOC key ${sig.fingerprint} (${sig.userID})`)
    sigs.set(m, sig)
  }
  const manifest = primaryManifest(opts.manifests)
  if (manifest === undefined) throw new XsError('E_MANIFEST', 'the stick has no manifest', {})
  const signature = sigs.get(manifest)
  if (signature === undefined) {
    signaturePolicy(security.mode, false, manifest.manifest.path)
    log('warning', `${manifest.manifest.path} is NOT signed; accepted only because security is permissive`)
  } else if (manifest.algo === 'sha1') {
    const allow = opts.allowSha1 ?? config.allowSha1 ?? false
    if (security.mode === 'enforcing' && !allow) {
      throw new XsError('E_MANIFEST', `the only signed manifest on the stick is ${manifest.manifest.path}; SHA-1 is broken for collisions, ` +
        'so this server does not trust it. Ask the NOC to prepare the stick again with "xs-rsync prepare-stick" (it writes a signed ' +
        'manifest.sha256), or set allow-sha1 = yes (--allow-sha1) to accept it', { path: manifest.manifest.path })
    }
    log('warning', `The stick is trusted through ${manifest.manifest.path} (SHA-1, broken for collisions)` +
      `${security.mode === 'enforcing' ? ' because allow-sha1 is set' : ''}; the NOC should sign a manifest.sha256`)
  }

  const entries = parseManifest(manifest.manifest.bytes, manifest.algo, manifest.manifest.path)
  const wanted = new Set(entries.map((e) => e.name))
  const alsoListed = new Map<string, AlsoHash[]>()
  for (const other of opts.manifests.filter((m) => m !== manifest)) {
    for (const e of parseManifest(other.manifest.bytes, other.algo, other.manifest.path)) {
      if (!wanted.has(e.name)) continue
      alsoListed.set(e.name, [...alsoListed.get(e.name) ?? [], { algo: other.algo, hash: e.hash, manifest: other.manifest.path }])
    }
  }
  return { security, manifest, entries, ...(signature && { signature }), alsoListed }
}
