import { createHash } from 'node:crypto'
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import type { TestKey } from './gpg.js'

/** The four files of a build (as writeSampleBuild makes them). */
export interface BuildFiles {
  tarball: string
  md5File: string
  contentsFile: string
  nameFile: string
}

export interface StickOptions {
  algo?: 'sha1' | 'sha256'
  /** Sign the manifest with this key; unsigned when absent. */
  key?: TestKey
  armor?: boolean
  /** Signature time (gpg --faked-system-time). */
  at?: Date
}

/** `hash  name` lines for every file in `dir` except manifests and signatures. */
export const manifestOf = (dir: string, algo: 'sha1' | 'sha256'): string =>
  readdirSync(dir).filter((n) => !n.startsWith('manifest.')).sort()
    .map((n) => `${createHash(algo).update(readFileSync(join(dir, n))).digest('hex')}  ${n}\n`).join('')

/** (Re)write xs-xobuilds/manifest.ALGO (+ .sig) for what the folder holds now. */
export const signStick = (buildsDir: string, opts: StickOptions = {}): void => {
  const algo = opts.algo ?? 'sha256'
  const manifest = Buffer.from(manifestOf(buildsDir, algo))
  writeFileSync(join(buildsDir, `manifest.${algo}`), manifest)
  if (opts.key !== undefined) {
    writeFileSync(join(buildsDir, `manifest.${algo}.sig`),
      opts.key.sign(manifest, { ...(opts.armor !== undefined && { armor: opts.armor }), ...(opts.at !== undefined && { at: opts.at }) }))
  }
}

/** A stick folder (`stick/xs-xobuilds/`) holding `builds`, with a manifest signed as asked. Returns the stick folder. */
export const makeStick = (stick: string, builds: BuildFiles[], opts: StickOptions = {}): string => {
  const dir = join(stick, 'xs-xobuilds')
  mkdirSync(dir, { recursive: true })
  for (const b of builds) {
    for (const f of [b.tarball, b.md5File, b.contentsFile, b.nameFile]) copyFileSync(f, join(dir, basename(f)))
  }
  signStick(dir, opts)
  return stick
}
