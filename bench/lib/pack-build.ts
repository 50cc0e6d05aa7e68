import { createHash } from 'node:crypto'
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** BASE-tree.EXT (a copy of `source`) + .md5 + .contents + .name in `packed`; the tarball's path. */
export const packBuild = async (packed: string, source: string, base: string, ext: string, name: string): Promise<string> => {
  await mkdir(packed, { recursive: true })
  const tarball = join(packed, `${base}-tree.${ext}`)
  await copyFile(source, tarball)
  await writeFile(`${tarball}.md5`, `${createHash('md5').update(await readFile(tarball)).digest('hex')}  ${base}-tree.${ext}\n`)
  await writeFile(join(packed, `${base}.contents`), `{"build":"${name}"}\n`)
  await writeFile(join(packed, `${base}.name`), `${name}\n`)
  return tarball
}
