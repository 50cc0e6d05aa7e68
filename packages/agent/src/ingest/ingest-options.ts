import type { LogFn, OnProgress, SecurityMode, XsConfig } from '@xs-rsync/core'
import type { VerifiedSignature } from '../verify-signature.js'

export interface IngestOptions {
  config: XsConfig
  /** Block device, mount point, folder holding xs-xobuilds/, or that folder. */
  source: string
  /** Verify everything, change nothing. */
  check?: boolean
  /** Accept a stick signed earlier than the published build of the same NAME. */
  allowDowngrade?: boolean
  /** Overrides config.security. */
  security?: SecurityMode
  /** Overrides config.allowSha1: accept a stick whose only signed manifest is manifest.sha1. */
  allowSha1?: boolean
  /** With `check`: false skips the store space check (prepare-stick's read-back at the NOC, where there is no store). */
  spaceCheck?: boolean
  log?: LogFn
  onProgress?: OnProgress
  signal?: AbortSignal
}

export interface IngestResult {
  /** The stick, for people. */
  source: string
  check: boolean
  /** The security mode in force (absent when the stick had no builds folder). */
  security?: SecurityMode
  /** The accepted signature; absent when unsigned (permissive). */
  signature?: VerifiedSignature
  /** Builds published from this stick (with --check: that would be). */
  published: string[]
  /** Builds on the stick that are already published (same tarball): not copied. */
  skipped: string[]
  /** Files in the stick folder not listed in the manifest: never read. */
  ignored: string[]
  /** Builds served after the ingest. */
  available: string[]
  /** The stick had no xs-xobuilds folder. */
  noBuilds: boolean
  /** The final line the log showed. */
  line: string
}
