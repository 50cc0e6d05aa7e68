import { runTool } from './run-tool.js'
import { XsError } from '@xs-rsync/core'

/** What blkid knows about a block device. */
export interface FilesystemProbe {
  /** blkid TYPE: "ext4", "vfat", ...; undefined when no filesystem was recognised. */
  type?: string
  label?: string
  /** blkid USAGE: "filesystem", "raid", "crypto", "other". */
  usage?: string
  /** Partition table type when the device is a whole disk ("dos", "gpt"). */
  ptType?: string
}

/**
 * Parse `blkid -o export` output (KEY=VALUE lines; values with odd characters
 * are backslash-escaped). Pure.
 */
export const parseBlkidExport = (text: string): FilesystemProbe => {
  const kv = new Map<string, string>()
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0) kv.set(line.slice(0, eq), line.slice(eq + 1).replace(/\\(.)/g, '$1'))
  }
  const probe: FilesystemProbe = {}
  const set = (field: keyof FilesystemProbe, key: string): void => {
    const v = kv.get(key)
    if (v !== undefined && v !== '') probe[field] = v
  }
  set('type', 'TYPE')
  set('label', 'LABEL')
  set('usage', 'USAGE')
  set('ptType', 'PTTYPE')
  return probe
}

/**
 * Probe the device itself (`blkid -p`, no cache: the stick may have been
 * rewritten since it was last seen). blkid exits 2 when it finds nothing.
 */
export const probeFilesystem = async (device: string): Promise<FilesystemProbe> => {
  const r = await runTool('blkid', ['-p', '-o', 'export', device])
  if (r.code === 2) return {}
  if (r.code !== 0) {
    throw new XsError('E_MOUNT', `cannot read the filesystem type of ${device}: blkid: ${r.stderr.trim() || `exit ${r.code}`}`,
      { path: device })
  }
  return parseBlkidExport(r.stdout)
}
