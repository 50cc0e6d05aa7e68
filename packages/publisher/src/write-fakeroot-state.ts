import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { atomicWrite } from '@xs-rsync/core'
import type { PublishLayout } from './publish-layout.js'

/**
 * The combined fakeroot state (ROOT/state/fakeroot.state) for `fakeroot -i`:
 * the save-file lines of every version tree still in pub/builds/.trees, so a client
 * pulling a just-replaced version keeps correct owners too. Written
 * atomically, and only when it changes.
 */
export const writeFakerootState = async (layout: PublishLayout): Promise<void> => {
  const parts: string[] = []
  for (const tree of (await readdir(layout.trees)).sort()) {
    let text: string
    try {
      text = await readFile(join(layout.ownership, `${tree}.fakeroot`), 'utf8')
    } catch (er) {
      if ((er as NodeJS.ErrnoException).code === 'ENOENT') continue
      throw er
    }
    if (text !== '') parts.push(text.endsWith('\n') ? text : text + '\n')
  }
  const text = parts.join('')
  // left alone when unchanged: serve restarts the daemon when this file changes
  if (await readFile(layout.fakerootState, 'utf8').catch(() => undefined) !== text) await atomicWrite(layout.fakerootState, text, 0o644)
}
