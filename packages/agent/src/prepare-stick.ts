import { createHash, randomBytes, type Hash } from 'node:crypto'
import { readMountInfo } from './read-mount-info.js'
import { lstat, mkdir, mkdtemp, open, readdir, readFile, realpath, rename, rm, rmdir, stat, statfs, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { PrivateKey } from 'openpgp'
import {
  DEFAULT_CONFIG, fsyncDir, ProgressMeter, silentLog, toXsError, XsError, type LogFn, type OnProgress,
} from '@xs-rsync/core'
import { checkBuildName, parseMd5File } from '@xs-rsync/publisher'
import { ingest, type IngestResult } from './ingest.js'
import type { HashAlgo, ManifestEntry } from './manifest.js'
import { mountContaining } from './mount-info.js'
import { renderManifest } from './render-manifest.js'
import { readSigningKey, signDetached } from './sign-detached.js'
import { checkStickLayouts, stickLayout, type StickBuildLayout } from './stick-layout.js'
import { verifyDetachedSignature } from './verify-signature.js'

export interface PrepareBuild {
  /** X-tree.tar.bz2|xz|lzma (with X.contents beside it) or olpc-os-builder X.tree.tar.lzma (with X.toc). */
  tarball: string
  /** The build NAME; required when there is no X.name beside the tarball. */
  name?: string
}

export interface PrepareStickOptions {
  /** The stick (its mount point) or any folder: xs-xobuilds/ is made inside. */
  out: string
  builds: PrepareBuild[]
  /** OpenPGP secret key (armored or binary) to sign the manifests with; unsigned when absent. */
  signKey?: Uint8Array | string
  /** Passphrase of a protected `signKey`. */
  passphrase?: string
  /** Names the key file in errors. */
  signKeyPath?: string
  log?: LogFn
  onProgress?: OnProgress
  signal?: AbortSignal
}

export interface PreparedBuild {
  name: string
  /** The build's four file names in xs-xobuilds/. */
  files: string[]
  /** md5 of the tarball. */
  md5: string
}

export interface PrepareStickResult {
  /** OUT/xs-xobuilds */
  dir: string
  builds: PreparedBuild[]
  /** Fingerprint of the signing key, when signed. */
  signedBy?: string
  /** The read-back (`ingest --check`) of the finished folder. */
  check: IngestResult
  /** The final line the log showed. */
  line: string
}

/** Space kept free on the stick beyond the files (manifests, signatures, file system overhead). */
const SLACK_BYTES = 1024 * 1024
const CHUNK = 1024 * 1024
const MAX_SIDE_FILE = 64 * 1024
const ALGOS: readonly HashAlgo[] = ['sha256', 'sha1']
const STEPS = 6

interface PlannedBuild {
  layout: StickBuildLayout
  name: string
  /** md5 given beside the tarball, to be checked against the copy. */
  givenMd5?: string
  tarballBytes: number
  contentsBytes: number
}

/** Sizes of a regular source file (symlinks followed: these are the NOC's own files). */
const regularSize = async (path: string): Promise<number> => {
  const st = await stat(path).catch((er: unknown) => {
    if ((er as NodeJS.ErrnoException).code !== 'ENOENT') throw toXsError(er)
    throw new XsError('E_NOT_FOUND', `${path} does not exist`, { path, cause: er })
  })
  if (!st.isFile()) throw new XsError('E_BUILD_INCOMPLETE', `${path} is not a regular file`, { path })
  return st.size
}

const readSide = async (path: string): Promise<string> => {
  if (await regularSize(path) > MAX_SIDE_FILE) {
    throw new XsError('E_BUILD_INCOMPLETE', `${path} is larger than ${MAX_SIDE_FILE} bytes: not a .md5 or .name file`, { path })
  }
  return readFile(path, 'utf8')
}

/** Check one build's files and settle its NAME. */
const planBuild = async (b: PrepareBuild): Promise<PlannedBuild> => {
  await regularSize(b.tarball)
  const siblings = await readdir(dirname(b.tarball)).catch((er: unknown) => {
    throw new XsError('E_NOT_FOUND', `cannot list the folder of ${b.tarball}: ${(er as Error).message}`, { path: b.tarball, cause: er })
  })
  const layout = stickLayout(b.tarball, siblings)
  const tarballBytes = await regularSize(layout.tarballFrom)
  const contentsBytes = await regularSize(layout.contentsFrom)
  const fromFile = layout.nameFrom === undefined ? undefined : (await readSide(layout.nameFrom)).split('\n')[0]?.trim() ?? ''
  if (fromFile !== undefined && b.name !== undefined && fromFile !== b.name) {
    throw new XsError('E_USAGE', `${layout.nameFrom} says the build is ${JSON.stringify(fromFile)} but the name given is ${JSON.stringify(b.name)}`,
      { path: layout.nameFrom ?? b.tarball, expected: fromFile, actual: b.name })
  }
  const raw = b.name ?? fromFile
  if (raw === undefined) {
    throw new XsError('E_BUILD_INCOMPLETE', `${b.tarball} has no ${layout.base}.name beside it: give the build name (--name)`,
      { path: b.tarball })
  }
  const name = checkBuildName(raw, layout.nameFrom ?? `the name of ${b.tarball}`)
  const givenMd5 = layout.md5From === undefined ? undefined : parseMd5File(await readSide(layout.md5From), layout.md5From)
  return { layout, name, tarballBytes, contentsBytes, ...(givenMd5 !== undefined && { givenMd5 }) }
}

/** OUT/xs-xobuilds must not exist, or be an empty folder (nothing extraneous on the stick). */
const checkTarget = async (dir: string): Promise<boolean> => {
  const st = await lstat(dir).catch((er: unknown) => {
    if ((er as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw er
  })
  if (st === undefined) return false
  const names = st.isDirectory() ? await readdir(dir) : []
  if (!st.isDirectory() || names.length > 0) {
    const what = st.isDirectory() ? `already holds ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', ...' : ''}` : 'exists and is not a folder'
    throw new XsError('E_USAGE', `${dir} ${what}: use an empty stick or remove that folder first (a stick must hold nothing extraneous)`,
      { path: dir })
  }
  return true
}

/** Copy `from` to a new file `to`, hashing every byte with each of `algos`; fsynced. Returns hex digests. */
const copyHashing = async (
  from: string, to: string, algos: readonly string[], meter: ProgressMeter, signal?: AbortSignal,
): Promise<Record<string, string>> => {
  const src = await open(from, 'r')
  try {
    const size = (await src.stat()).size
    const out = await open(to, 'wx', 0o644)
    try {
      const hashes: [string, Hash][] = algos.map((a) => [a, createHash(a)])
      const buf = Buffer.alloc(CHUNK)
      let total = 0
      for (;;) {
        signal?.throwIfAborted()
        const { bytesRead } = await src.read(buf, 0, buf.length, null)
        if (bytesRead === 0) break
        const chunk = buf.subarray(0, bytesRead)
        for (const [, h] of hashes) h.update(chunk)
        await out.write(chunk)
        total += bytesRead
        meter.add(bytesRead)
      }
      if (total !== size || (await src.stat()).size !== size) {
        throw new XsError('E_IO', `${from} changed while it was copied (${total} bytes read, ${size} expected)`, { path: from })
      }
      await out.sync()
      return Object.fromEntries(hashes.map(([a, h]) => [a, h.digest('hex')]))
    } finally {
      await out.close()
    }
  } finally {
    await src.close()
  }
}

/** Write a small new file, fsynced. */
const writeSynced = async (path: string, data: string | Uint8Array): Promise<void> => {
  const fh = await open(path, 'wx', 0o644)
  try {
    await fh.writeFile(data)
    await fh.sync()
  } finally {
    await fh.close()
  }
}

const hashOf = (algo: string, data: string | Uint8Array): string => createHash(algo).update(data).digest('hex')

/**
 * Read the finished folder back through the agent's own `ingest --check`
 * path, against no store (nothing published, no space check) and a keyring
 * holding only the signing key (enforcing), or none (permissive) when unsigned.
 */
const readBack = async (out: string, key: PrivateKey | undefined, log: LogFn, onProgress?: OnProgress, signal?: AbortSignal): Promise<IngestResult> => {
  const tmp = await mkdtemp(join(tmpdir(), 'xs-rsync-readback-'))
  try {
    const keyring = join(tmp, 'keys')
    await mkdir(keyring)
    if (key !== undefined) await writeFile(join(keyring, 'noc.asc'), key.toPublic().armor())
    return await ingest({
      config: { ...DEFAULT_CONFIG, root: join(tmp, 'no-store'), keyring, reserveBytes: 0, mountBase: join(tmp, 'mnt') },
      source: out,
      check: true,
      spaceCheck: false,
      security: key === undefined ? 'permissive' : 'enforcing',
      log: (level, msg) => { log(level === 'notice' ? 'info' : level, `read-back: ${msg}`) },
      ...(onProgress && { onProgress }),
      ...(signal && { signal }),
    })
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
}

/**
 * Prepare a stick for the school servers: OUT/xs-xobuilds/ holding each
 * build's tarball, .md5 (made when missing, checked when given), .contents
 * and .name (made from `name` when missing), manifest.sha256 and
 * manifest.sha1 over exactly those files, and a detached signature of each
 * manifest when `signKey` is given. OUT must exist (it is the stick's mount
 * point; a mistyped one must not fill this computer's disk). Everything is
 * written into a staging folder on the stick, fsynced, and renamed into place,
 * so a half-written xs-xobuilds/ is never visible (on fusefat, which loses a
 * renamed folder's contents, in place with the manifests last); then the folder is read back through the
 * agent's `ingest --check` path, and removed again if that fails.
 */
export const prepareStick = async (opts: PrepareStickOptions): Promise<PrepareStickResult> => {
  const log = opts.log ?? silentLog
  const { signal } = opts
  const dir = join(opts.out, 'xs-xobuilds')
  let stepNo = 0
  const step = (title: string): void => { log('notice', `[${++stepNo}/${STEPS}] ${title}`) }
  if (opts.builds.length === 0) throw new XsError('E_USAGE', 'no build given: name at least one build tarball')

  step(`Checking ${opts.builds.length} build${opts.builds.length === 1 ? '' : 's'}`)
  const key = opts.signKey === undefined
    ? undefined
    : await readSigningKey(opts.signKey, { passphrase: opts.passphrase, ...(opts.signKeyPath !== undefined && { where: opts.signKeyPath }) })
  if (key === undefined) log('warning', 'No signing key given: the manifests are NOT signed; servers in enforcing mode will refuse this stick')
  else log('info', `Signing with ${key.getFingerprint().toUpperCase()} (${key.getUserIDs()[0] ?? 'no user id'})`)
  const plans: PlannedBuild[] = []
  for (const b of opts.builds) {
    const p = await planBuild(b)
    if (plans.some((q) => q.name === p.name)) {
      throw new XsError('E_BUILD_NAME', `build name ${p.name} is given to more than one build`, { path: b.tarball, actual: p.name })
    }
    plans.push(p)
    log('info', `Build ${p.name}: ${p.layout.tarballFrom}${p.layout.md5From === undefined ? ' (.md5 will be made)' : ''}` +
      `${p.layout.nameFrom === undefined ? ' (.name will be made)' : ''}`)
  }
  checkStickLayouts(plans.map((p) => p.layout))

  step(`Checking free space on ${opts.out}`)
  const outSt = await stat(opts.out).catch((er: unknown) => {
    if ((er as NodeJS.ErrnoException).code !== 'ENOENT') throw er
    throw new XsError('E_NOT_FOUND', `${opts.out} does not exist: mount the stick there first (the folder is never created, ` +
      'so that a mistyped mount point cannot fill this computer\'s disk)', { path: opts.out, cause: er })
  })
  if (!outSt.isDirectory()) throw new XsError('E_USAGE', `${opts.out} is not a folder: --out names the stick's mount point`, { path: opts.out })
  const outReal = await realpath(opts.out)
  const mount = mountContaining(readMountInfo(), outReal)
  if (mount !== undefined && mount.mountPoint !== outReal) {
    log('warning', `${opts.out} is not a mount point: the builds go to the filesystem mounted at ${mount.mountPoint} (${mount.source}), not to a stick of their own`)
  }
  // fusefat loses the contents of a renamed folder: there the files are
  // written in place, the manifests and signatures last, so a stick left
  // half-written has no manifest and every server refuses it.
  const inPlace = mount?.fsType === 'fuse.fusefat'
  const replaceEmpty = await checkTarget(dir)
  const total = plans.reduce((n, p) => n + p.tarballBytes + p.contentsBytes, 0)
  const need = total + SLACK_BYTES
  const fs = await statfs(opts.out)
  if (fs.blocks === 0) {
    // fusefat reports a FAT32 stick's size as 0: nothing to compare with
    log('warning', `${opts.out} does not report its size (a FUSE mount such as fusefat): free space not checked; ` +
      `the builds need ${Math.ceil(need / 1024 / 1024)} MB`)
  } else if (fs.bavail * fs.bsize < need) {
    const free = fs.bavail * fs.bsize
    throw new XsError('E_NO_SPACE', `${opts.out} needs ${Math.ceil(need / 1024 / 1024)} MB for these builds but has ${Math.floor(free / 1024 / 1024)} MB free`,
      { path: opts.out, expected: need, actual: free })
  }

  const staging = inPlace ? dir : join(opts.out, `.xs-xobuilds.tmp-${process.pid}-${randomBytes(4).toString('hex')}`)
  if (!(inPlace && replaceEmpty)) await mkdir(staging, { mode: 0o755 })
  let committed = false
  try {
    step(`Copying ${(total / 1024 / 1024).toFixed(1)} MB and hashing it`)
    const meter = new ProgressMeter({ step: 'copy', bytesTotal: total, ...(opts.onProgress && { onProgress: opts.onProgress }) })
    const entries: Record<HashAlgo, ManifestEntry[]> = { sha256: [], sha1: [] }
    const add = (name: string, h: Record<string, string>): void => {
      for (const a of ALGOS) entries[a].push({ name, hash: h[a] as string })
    }
    const builds: PreparedBuild[] = []
    for (const p of plans) {
      const l = p.layout
      const th = await copyHashing(l.tarballFrom, join(staging, l.tarball), [...ALGOS, 'md5'], meter, signal)
      const md5 = th.md5 as string
      if (p.givenMd5 !== undefined && p.givenMd5 !== md5) {
        throw new XsError('E_CHECKSUM', `${l.tarballFrom}: md5 is ${md5}, ${l.md5From} says ${p.givenMd5}`,
          { path: l.tarballFrom, expected: p.givenMd5, actual: md5 })
      }
      add(l.tarball, th)
      add(l.contents, await copyHashing(l.contentsFrom, join(staging, l.contents), ALGOS, meter, signal))
      for (const [file, text] of [[l.md5, `${md5}  ${l.tarball}\n`], [l.name, `${p.name}\n`]] as const) {
        await writeSynced(join(staging, file), text)
        add(file, Object.fromEntries(ALGOS.map((a) => [a, hashOf(a, text)])))
      }
      builds.push({ name: p.name, files: [l.tarball, l.md5, l.contents, l.name], md5 })
    }
    meter.finish()

    step(key === undefined ? 'Writing the manifests (unsigned)' : 'Writing and signing the manifests')
    for (const a of ALGOS) {
      const manifest = new TextEncoder().encode(renderManifest(entries[a]))
      await writeSynced(join(staging, `manifest.${a}`), manifest)
      if (key !== undefined) {
        const signature = await signDetached({ data: manifest, secretKey: key })
        await verifyDetachedSignature({ data: manifest, signature, keys: [key.toPublic()], where: `manifest.${a}.sig` })
        await writeSynced(join(staging, `manifest.${a}.sig`), signature)
      }
    }

    step(`Putting ${dir} in place`)
    await fsyncDir(staging)
    if (!inPlace) {
      if (replaceEmpty) await rmdir(dir)
      await rename(staging, dir)
    }
    committed = true
    await fsyncDir(opts.out)

    step('Reading the stick back as a school server would (ingest --check)')
    let check: IngestResult
    try {
      check = await readBack(opts.out, key, log, opts.onProgress, signal)
      const want = plans.map((p) => p.name).sort()
      if (check.published.slice().sort().join(',') !== want.join(',')) {
        throw new XsError('E_INTERNAL', `the read-back saw builds ${check.published.join(', ') || 'none'} instead of ${want.join(', ')}`, { path: dir })
      }
    } catch (er) {
      log('err', `The read-back failed; removing ${dir} so that this stick is not used`)
      await rm(dir, { recursive: true, force: true })
      throw er
    }
    const line = `DONE: ${dir} holds build${builds.length === 1 ? '' : 's'} ${builds.map((b) => b.name).join(', ')}, ` +
      `${key === undefined ? 'UNSIGNED' : `signed by ${key.getFingerprint().toUpperCase()}`}, read back and verified`
    log('notice', line)
    return { dir, builds, ...(key !== undefined && { signedBy: key.getFingerprint().toUpperCase() }), check, line }
  } finally {
    if (!committed) await rm(staging, { recursive: true, force: true })
  }
}
