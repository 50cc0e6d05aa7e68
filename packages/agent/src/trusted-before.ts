import { access, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { atomicWrite, silentLog, storeLayout, type LogFn, type XsConfig } from '@xs-rsync/core'
import { readBuildRecords } from '@xs-rsync/publisher'
import { ingestRecordOf } from './replay-record.js'

/**
 * ROOT/state/keys-trusted: this server has trusted a NOC key (the original's
 * /etc/xs-security-on). Once there, an empty or missing keyring never makes
 * the server permissive again.
 */
export const trustMarkerFile = (root: string): string => join(storeLayout(root).state, 'keys-trusted')

/** The store says it trusted a NOC key before: the marker, or a build published from a signed stick. */
export const trustedBefore = async (config: Pick<XsConfig, 'root'>): Promise<boolean> => {
  if (await access(trustMarkerFile(config.root)).then(() => true, () => false)) return true
  const records = await readBuildRecords(join(storeLayout(config.root).state, 'builds')).catch(() => [])
  return records.some((r) => typeof ingestRecordOf(r.extra)?.signedBy === 'string')
}

/**
 * Write the marker naming `fingerprints` when it is not there yet. Only into
 * an existing ROOT/state (keys add may run before setup made the store); a
 * failure is a warning, never a refusal.
 */
export const markTrusted = async (config: Pick<XsConfig, 'root'>, fingerprints: string[], log: LogFn = silentLog): Promise<void> => {
  const file = trustMarkerFile(config.root)
  if (fingerprints.length === 0 || await access(file).then(() => true, () => false)) return
  if (!(await stat(storeLayout(config.root).state).then((s) => s.isDirectory(), () => false))) return
  await atomicWrite(file, `${JSON.stringify({ since: new Date().toISOString(), keys: fingerprints })}\n`, 0o644)
    .catch((er: unknown) => { log('warning', `Cannot write ${file}: ${(er as Error).message}`) })
}
