import { dirname } from 'node:path'
import type { SetupInput } from './setup-plan.js'
import { renderUnit } from './render-unit.js'

const INGEST_UNIT = 'xs-rsync-ingest@.service'

/** The folders a unit may write (ReadWritePaths=, "-" prefixes dropped). Pure. */
export const writablePaths = (unitText: string): string[] =>
  unitText.split('\n').filter((l) => l.startsWith('ReadWritePaths='))
    .flatMap((l) => l.slice('ReadWritePaths='.length).trim().split(/\s+/)).filter((p) => p !== '').map((p) => p.replace(/^-/, ''))

const inside = (p: string, dir: string): boolean => p === dir || p.startsWith(dir.endsWith('/') ? dir : dir + '/')

/**
 * Settings that would make the installed units fail later, in words. Pure.
 * Today: the stick job (read-only system but for its ReadWritePaths=) must
 * be able to replace the generated rsync config, i.e. write its folder.
 */
export const setupWarnings = (input: Omit<SetupInput, 'observed' | 'prefix'>): string[] => {
  const shipped = input.assets.units.get(INGEST_UNIT)
  if (shipped === undefined) return []
  const { config } = input
  const unit = renderUnit(INGEST_UNIT, shipped, { bin: input.bin, root: config.root, rsyncdConf: config.rsyncdConf, backend: config.backend })
  const dir = dirname(config.rsyncdConf)
  const rw = writablePaths(unit)
  return rw.some((w) => inside(dir, w)) ? [] : [
    `rsyncd-conf = ${config.rsyncdConf}: the stick job may only write ${rw.join(', ')}, so it could not replace this file ` +
    '(every stick would fail); set rsyncd-conf = /etc/xs-rsync/rsyncd.conf in the config file',
  ]
}
