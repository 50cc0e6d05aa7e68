import { writeFileSync } from 'node:fs'
import { rawTar } from '../../packages/publisher/test/lib/make-archive.js'

/** A small OS tree as the raw .tar `file` (returned): its /etc/issue says `issue`, bin/su is setuid; `extra` entries after. */
export const tinyOsTar = (file: string, issue: string, extra: Parameters<typeof rawTar>[0] = []): string => {
  writeFileSync(file, rawTar([
    { name: './', type: '5', mode: 0o755 },
    { name: 'etc/', type: '5', mode: 0o755 },
    { name: 'etc/issue', data: Buffer.from(issue), mode: 0o644 },
    { name: 'bin/', type: '5', mode: 0o755 },
    { name: 'bin/su', data: Buffer.from('su\n'), mode: 0o4755 },
    ...extra,
  ]))
  return file
}
