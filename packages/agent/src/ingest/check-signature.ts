import type { SecurityMode } from '@xs-rsync/core'
import type { ManifestEntry } from '../manifest.js'
import type { AlsoHash, StickManifest } from '../manifest-files.js'
import { checkStickTrust, describeSigner } from '../check-stick-trust.js'
import type { VerifiedSignature } from '../verify-signature.js'
import type { IngestContext } from './ingest-context.js'
import type { ManifestRead } from './read-manifest.js'

export interface SignatureChecked {
  /** The security mode in force. */
  security: SecurityMode
  /** The manifest the stick is read by (check-stick-trust.ts). */
  manifest: StickManifest
  /** Its entries. */
  entries: ManifestEntry[]
  /** The accepted signature; undefined when unsigned (permissive). */
  signature: VerifiedSignature | undefined
  /** What the stick's other manifests say about those files: checked as they are copied. */
  alsoListed: Map<string, AlsoHash[]>
}

/** Stage: load the NOC keyring, settle the security mode, verify every signed manifest (check-stick-trust.ts). */
export const checkSignature = async <C extends IngestContext & ManifestRead>(ctx: C): Promise<C & SignatureChecked> => {
  ctx.step('signature')
  const trust = await checkStickTrust({
    config: ctx.config, manifests: ctx.manifests, check: ctx.check, log: ctx.log,
    ...(ctx.opts.security && { security: ctx.opts.security }), ...(ctx.opts.allowSha1 !== undefined && { allowSha1: ctx.opts.allowSha1 }),
  })
  ctx.signer = describeSigner(trust.signature)
  return Object.assign(ctx, {
    security: trust.security.mode, manifest: trust.manifest, entries: trust.entries, signature: trust.signature, alsoListed: trust.alsoListed,
  })
}
