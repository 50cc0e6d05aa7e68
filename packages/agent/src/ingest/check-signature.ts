import { XsError, type LogFn, type SecurityMode } from '@xs-rsync/core'
import { loadKeyring, type Keyring } from '../keyring.js'
import type { StickManifest } from '../manifest-files.js'
import { resolveSecurityMode, signaturePolicy } from '../security-mode.js'
import { verifyDetachedSignature, type VerifiedSignature } from '../verify-signature.js'
import type { IngestContext } from './ingest-context.js'
import type { ManifestRead } from './read-manifest.js'

export interface SignatureChecked {
  /** The security mode in force. */
  security: SecurityMode
  /** The accepted signature; undefined when unsigned (permissive). */
  signature: VerifiedSignature | undefined
}

/** Verify the manifest's signature as the security mode says. */
const verifyManifest = async (m: StickManifest, ring: Keyring, mode: SecurityMode, log: LogFn): Promise<VerifiedSignature | undefined> => {
  if (signaturePolicy(mode, m.signature !== undefined, m.manifest.path) === 'accept-unsigned' || m.signature === undefined) {
    log('warning', `${m.manifest.path} is NOT signed; accepted only because security is permissive`)
    return undefined
  }
  try {
    const sig = await verifyDetachedSignature({ data: m.manifest.bytes, signature: m.signature.bytes, keys: ring.keys, where: m.signature.path })
    log('notice', `Signature ${m.signature.path} is valid: signed ${sig.created.toISOString()} by NOC key ${sig.fingerprint}`)
    return sig
  } catch (er) {
    const ids = String((er as XsError).actual ?? '').split(',')
    const dropped = ring.dropped.find((d) => d.keyIDs.some((k) => ids.includes(k)))
    if (er instanceof XsError && dropped !== undefined) {
      throw new XsError('E_SIGNATURE_BAD', `${er.message}; the signing key ${dropped.fingerprint} (${dropped.file}) does not count: ${dropped.reason}`,
        { path: m.signature.path, cause: er })
    }
    throw er
  }
}

/** Stage: load the NOC keyring, settle the security mode, verify the manifest's signature. */
export const checkSignature = async <C extends IngestContext & ManifestRead>(ctx: C): Promise<C & SignatureChecked> => {
  const { config, log } = ctx
  ctx.step('signature')
  const ring = await loadKeyring(config.keyring, { log })
  const sec = resolveSecurityMode(ctx.opts.security ?? config.security, ring.keys.length, config.keyring)
  log('notice', `Security is ${sec.mode} (${sec.why})`)
  const signature = await verifyManifest(ctx.manifest, ring, sec.mode, log)
  return Object.assign(ctx, { security: sec.mode, signature })
}
