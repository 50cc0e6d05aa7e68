import { XsError } from '@xs-rsync/core'
import type { HashAlgo } from './manifest.js'

/**
 * What the agent keeps about the stick a build came from, in the build's
 * record (`extra.ingest` of ROOT/state/builds/NAME.json, written by the
 * publisher with the record, so the two never disagree).
 */
export interface IngestRecord {
  /** ISO creation time of the accepted manifest signature; null when unsigned (permissive). */
  signedAt: string | null
  /** Fingerprint of the NOC key that signed it. */
  signedBy: string | null
  /** That key's user ID (absent in records written before it was kept). */
  signerUserID?: string | null
  manifest: HashAlgo
  /** The tarball's hash in that manifest. */
  tarballHash: string
  /** The stick, for people. */
  source: string
  ingestedAt: string
}

/** `extra.ingest` of a record, when it is well-formed; anything else counts as absent. */
export const ingestRecordOf = (extra: Record<string, unknown> | undefined): IngestRecord | undefined => {
  const r = extra?.ingest as Partial<IngestRecord> | undefined
  if (typeof r !== 'object' || r === null) return undefined
  const okTime = (v: unknown): boolean => v === null || (typeof v === 'string' && !Number.isNaN(Date.parse(v)))
  if (!okTime(r.signedAt) || (r.manifest !== 'sha1' && r.manifest !== 'sha256') || typeof r.tarballHash !== 'string') return undefined
  return r as IngestRecord
}

/** What is published under a NAME (from its build record). */
export interface PublishedBuild {
  /** md5 of the published tarball. */
  md5: string
  ingest?: IngestRecord | undefined
}

/** What the stick offers under that NAME. */
export interface IncomingBuild {
  name: string
  /** md5 from the build's .md5 file (verified through the manifest). */
  md5: string
  algo: HashAlgo
  tarballHash: string
  /** Signature creation time; undefined when unsigned. */
  signedAt?: Date | undefined
}

export type ReplayDecision =
  | { action: 'new' }
  | { action: 'same' }
  | { action: 'replace', downgrade: boolean }

/**
 * Replay protection and skip-same, pure:
 * - nothing published under NAME: new;
 * - the same tarball (same md5 as served and, when recorded with the same
 *   algorithm, the same manifest hash): same, skipped without copying;
 * - otherwise a replacement, refused (E_DOWNGRADE) when the published build
 *   came from a stick signed later than this one, or this one is unsigned
 *   (it cannot prove it is newer), unless `allowDowngrade`.
 */
export const checkReplay = (incoming: IncomingBuild, published: PublishedBuild | undefined, allowDowngrade: boolean): ReplayDecision => {
  if (published === undefined) return { action: 'new' }
  const rec = published.ingest
  // the md5 says what is served now (refresh may have re-published by hand); the manifest hash, when
  // recorded with the same algorithm, makes the match strong
  const same = published.md5 === incoming.md5 &&
    (rec === undefined || rec.manifest !== incoming.algo || rec.tarballHash === incoming.tarballHash)
  if (same) return { action: 'same' }
  if (rec?.signedAt == null) return { action: 'replace', downgrade: false }
  const before = new Date(rec.signedAt)
  const older = incoming.signedAt === undefined || incoming.signedAt < before
  if (!older) return { action: 'replace', downgrade: false }
  if (allowDowngrade) return { action: 'replace', downgrade: true }
  const what = incoming.signedAt === undefined ? 'is not signed' : `was signed ${incoming.signedAt.toISOString()}`
  throw new XsError('E_DOWNGRADE',
    `build ${incoming.name} on the stick ${what}, but the published ${incoming.name} was signed ${before.toISOString()}`,
    { entry: incoming.name, expected: `signed after ${before.toISOString()}`, actual: incoming.signedAt?.toISOString() ?? 'unsigned' })
}
