import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { measure, type Measured } from './measure.js'
import { dropCaches } from './stick-image.js'

/**
 * A tar-style contender, measured: `cmd(dest, state)` unpacks into the new
 * folder DIR/tree (the original's fakeroot state file is DIR/fakeroot.state),
 * with the page cache dropped just before.
 */
export const measureUnpackInto = async (dir: string, cmd: (dest: string, state: string) => string[]): Promise<Measured> => {
  const dest = join(dir, 'tree')
  await mkdir(dest, { recursive: true })
  dropCaches()
  return measure(cmd(dest, join(dir, 'fakeroot.state')))
}
