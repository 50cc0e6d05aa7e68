/**
 * The real-files corpus: this machine's own files packed as an OS build
 * would be, many small files as real builds hold (issue 11). By default
 * /usr/share/doc, /usr/share/man and /usr/lib/python3 (on Debian 12 about
 * 32-35k entries, ~290 MB, ~104 MB as .tar.bz2 by `lbzip2 -9`). Packed by
 * GNU tar (names sorted, numeric owners, so one machine always gives the
 * same tar bytes) and compressed by the real tool; built once and kept.
 *
 *   import { realFilesTarball } from './lib/real-files-corpus.js'
 *   const { tarball, entries, bytes } = await realFilesTarball(join(out, 'real'), 'bz2')
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** The folders under / the corpus is made of (XS_CORPUS_DIRS, comma-separated, overrides). */
export const REAL_FILES_DIRS: readonly string[] = process.env.XS_CORPUS_DIRS?.split(',') ?? ['usr/share/doc', 'usr/share/man', 'usr/lib/python3']

export type CorpusFormat = 'bz2' | 'lzma' | 'xz'

/** Compressor per format: lbzip2 -9 (as the NOC's tool would), OOB's `lzma -1`, xz. */
const COMPRESSOR: Record<CorpusFormat, string[]> = {
  bz2: ['lbzip2', '-9', '-c'],
  lzma: ['lzma', '-1', '-c'],
  xz: ['xz', '-6', '-c'],
}

export interface Corpus {
  tarball: string
  /** Entries in the tar (tar -t lines). */
  entries: number
  /** Size of the compressed tarball. */
  bytes: number
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`

/** Run a bash pipeline (pipefail), resolve with its stdout. */
const shell = (script: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const p = spawn('bash', ['-o', 'pipefail', '-c', script], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    p.stdout.on('data', (d: Buffer) => { out += d.toString() })
    p.on('error', reject)
    p.on('close', (code) => code === 0 ? resolve(out) : reject(new Error(`${script} exited ${code}`)))
  })

/**
 * The corpus as `DIR/os-real-tree.tar.<format>` (X-tree.tar.EXT, the build
 * file name a stick carries), made on first use; its entry count is kept
 * beside it (`.entries`).
 */
export const realFilesTarball = async (dir: string, format: CorpusFormat = 'bz2', dirs: readonly string[] = REAL_FILES_DIRS): Promise<Corpus> => {
  await mkdir(dir, { recursive: true })
  const tarball = join(dir, `os-real-tree.tar.${format}`)
  const count = `${tarball}.entries`
  if (!existsSync(tarball) || !existsSync(count)) {
    const missing = dirs.filter((d) => !existsSync(join('/', d)))
    if (missing.length > 0) throw new Error(`real-files corpus: ${missing.map((d) => `/${d}`).join(', ')} missing on this machine (set XS_CORPUS_DIRS)`)
    process.stdout.write(`making the real-files corpus from /${dirs.join(', /')} (${COMPRESSOR[format].join(' ')})...\n`)
    const part = `${tarball}.part`
    await shell(`tar --sort=name --numeric-owner -C / -cf - ${dirs.map(quote).join(' ')} | ${COMPRESSOR[format].join(' ')} > ${quote(part)}`)
    const listed = await shell(`tar -I ${format === 'bz2' ? 'lbzip2' : 'xz'} -tf ${quote(part)} | wc -l`)
    const entries = Number(listed.trim())
    await writeFile(count, `${entries}\n`)
    await rename(part, tarball)
  }
  return { tarball, entries: Number((await readFile(count, 'utf8')).trim()), bytes: (await stat(tarball)).size }
}

/** Remove a corpus (to rebuild it). */
export const removeCorpus = async (c: Corpus): Promise<void> => {
  await rm(c.tarball, { force: true })
  await rm(`${c.tarball}.entries`, { force: true })
}
