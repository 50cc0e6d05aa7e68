import { readdir, rm, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import {
  describeError, ProgressMeter, silentLog, storeLayout, toXsError, XsError,
  type LogFn, type OnProgress, type ProgressEvent, type SecurityMode, type XsConfig,
} from '@xs-rsync/core'
import {
  checkBuildName, groupPackedBuilds, listBuilds, makeStagingDir, parseMd5File, placePackedFiles, publishBuildInLock, readBuildName,
  startUnpack, withStoreLock, writeRsyncdConfInLock, type BuildRecord, type PublishLayout, type StartedUnpack,
} from '@xs-rsync/publisher'
import { copyVerified } from './copy-verified.js'
import { CopyFollower } from './follow-copy.js'
import { loadKeyring, type Keyring } from './keyring.js'
import { parseManifest, type HashAlgo } from './manifest.js'
import { listStickDir, readStickManifest, statListedFiles, type StickDir, type StickFile } from './manifest-files.js'
import { checkReplay, ingestRecordOf, type IngestRecord } from './replay-record.js'
import { resolveSource } from './resolve-source.js'
import { resolveSecurityMode, signaturePolicy } from './security-mode.js'
import { checkSpace, describeNeed, spaceNeeded } from './space-check.js'
import { showsInStatus, StatusRecorder } from './status-record.js'
import { verifyDetachedSignature, type VerifiedSignature } from './verify-signature.js'

export interface IngestOptions {
  config: XsConfig
  /** Block device, mount point, folder holding xs-xobuilds/, or that folder. */
  source: string
  /** Verify everything, change nothing. */
  check?: boolean
  /** Accept a stick signed earlier than the published build of the same NAME. */
  allowDowngrade?: boolean
  /** Overrides config.security. */
  security?: SecurityMode
  /** With `check`: false skips the store space check (prepare-stick's read-back at the NOC, where there is no store). */
  spaceCheck?: boolean
  log?: LogFn
  onProgress?: OnProgress
  signal?: AbortSignal
}

export interface IngestResult {
  /** The stick, for people. */
  source: string
  check: boolean
  /** The security mode in force (absent when the stick had no builds folder). */
  security?: SecurityMode
  /** The accepted signature; absent when unsigned (permissive). */
  signature?: VerifiedSignature
  /** Builds published from this stick (with --check: that would be). */
  published: string[]
  /** Builds on the stick that are already published (same tarball): not copied. */
  skipped: string[]
  /** Files in the stick folder not listed in the manifest: never read. */
  ignored: string[]
  /** Builds served after the ingest. */
  available: string[]
  /** The stick had no xs-xobuilds folder. */
  noBuilds: boolean
  /** The final line the log showed. */
  line: string
}

/** Small build files are read into memory (once) before anything is copied. */
const MAX_SIDE_FILE = 64 * 1024

/** One build on the stick, its files checked against the manifest. */
interface StickBuild {
  name: string
  tarball: StickFile
  md5: StickFile
  contents: StickFile
  nameFile: StickFile
  /** Bytes of the small files, read and verified. */
  md5Bytes: Buffer
  nameBytes: Buffer
  expectedMd5: string
}

const STEPS = ['Finding the builds on', 'Reading the manifest', 'Checking the signature', 'Checking the files on the stick',
  'Comparing with the published builds', 'Checking free space', 'Copying and verifying', 'Publishing'] as const

const list = (names: string[]): string => names.length === 0 ? 'none' : names.join(', ')

/** Read a small build file once, verify it, keep its bytes. */
const readSide = async (file: StickFile, algo: HashAlgo, signal?: AbortSignal): Promise<Buffer> => {
  if (file.size > MAX_SIDE_FILE) {
    throw new XsError('E_BUILD_INCOMPLETE', `${file.path} is ${file.size} bytes, too big for its kind (at most ${MAX_SIDE_FILE})`,
      { path: file.path, expected: MAX_SIDE_FILE, actual: file.size })
  }
  const r = await copyVerified({ file, algo, keep: true, ...(signal && { signal }) })
  return r.data ?? Buffer.alloc(0)
}

/** Group the listed files into complete builds, reading and checking each .name and .md5. */
const stickBuilds = async (files: StickFile[], algo: HashAlgo, dir: string, signal?: AbortSignal): Promise<{ builds: StickBuild[], extras: StickFile[] }> => {
  const byName = new Map(files.map((f) => [f.name, f]))
  const { groups, ignored } = groupPackedBuilds(files.map((f) => f.name))
  const builds: StickBuild[] = []
  for (const g of groups) {
    if (g.conflicts.length > 0) {
      throw new XsError('E_BUILD_INCOMPLETE', `${join(dir, g.base)}: more than one file for the same part: ${g.conflicts.join(', ')}`,
        { path: join(dir, g.base) })
    }
    const get = (n: string | undefined): StickFile | undefined => n === undefined ? undefined : byName.get(n)
    const [tarball, md5, contents, nameFile] = [get(g.tarball), get(g.md5), get(g.contents), get(g.name)]
    if (tarball === undefined || md5 === undefined || contents === undefined || nameFile === undefined) {
      throw new XsError('E_BUILD_INCOMPLETE', `build ${join(dir, g.base)} on the stick is incomplete: missing ${g.missing.join(', ')} ` +
        '(each build needs its tarball, .md5, .contents and .name, all listed in the manifest)', { path: join(dir, g.base) })
    }
    const nameBytes = await readSide(nameFile, algo, signal)
    const name = checkBuildName(nameBytes.toString('utf8').split('\n')[0]?.trim() ?? '', nameFile.path)
    const md5Bytes = await readSide(md5, algo, signal)
    const expectedMd5 = parseMd5File(md5Bytes.toString('utf8'), md5.path)
    if (builds.some((b) => b.name === name)) {
      throw new XsError('E_BUILD_NAME', `${nameFile.path}: build name ${name} is used by more than one build on the stick`,
        { path: nameFile.path, actual: name })
    }
    builds.push({ name, tarball, md5, contents, nameFile, md5Bytes, nameBytes, expectedMd5 })
  }
  if (builds.length === 0) {
    throw new XsError('E_MANIFEST', `the manifest in ${dir} lists no build (X-tree.tar.bz2|xz|lzma with .md5, .contents, .name)`, { path: dir })
  }
  return { builds, extras: ignored.map((n) => byName.get(n)).filter((f): f is StickFile => f !== undefined) }
}

/** Verify the manifest's signature as the security mode says. */
const checkSignature = async (
  m: Awaited<ReturnType<typeof readStickManifest>>, ring: Keyring, mode: SecurityMode, log: LogFn,
): Promise<VerifiedSignature | undefined> => {
  if (signaturePolicy(mode, m.signature !== undefined, m.manifest.path) === 'accept-unsigned' || m.signature === undefined) {
    log('warning', `${m.manifest.path} is NOT signed; accepted only because security is permissive`)
    return undefined
  }
  try {
    const sig = await verifyDetachedSignature({ data: m.manifest.bytes, signature: m.signature.bytes, keys: ring.keys, where: m.signature.path })
    log('notice', `Signature ${m.signature.path} is valid: signed ${sig.created.toISOString()} by NOC key ${sig.fingerprint}`)
    return sig
  } catch (er) {
    const ids = String((er as XsError).actual ?? '').split(',')
    const dropped = ring.dropped.find((d) => d.keyIDs.some((k) => ids.includes(k)))
    if (er instanceof XsError && dropped !== undefined) {
      throw new XsError('E_SIGNATURE_BAD', `${er.message}; the signing key ${dropped.fingerprint} (${dropped.file}) does not count: ${dropped.reason}`,
        { path: m.signature.path, cause: er })
    }
    throw er
  }
}

/** Files of the packed folder that belong to the same base or the same NAME as `build`. */
const packedFilesToReplace = async (packed: string, base: string, name: string, log: LogFn): Promise<string[]> => {
  const { groups } = groupPackedBuilds(await readdir(packed))
  const out: string[] = []
  for (const g of groups) {
    let gName: string | undefined
    if (g.name !== undefined) gName = await readBuildName(join(packed, g.name)).catch(() => undefined)
    if (g.base !== base && gName !== name) continue
    if (g.base === base && gName !== undefined && gName !== name) {
      log('warning', `The stick's build ${name} replaces the files of build ${gName} in ${packed} (same file names)`)
    }
    out.push(...[g.tarball, g.md5, g.contents, g.name, ...g.conflicts].filter((f): f is string => f !== undefined))
  }
  return [...new Set(out)]
}

const baseOf = (b: StickBuild): string => groupPackedBuilds([b.tarball.name]).groups[0]?.base ?? b.tarball.name

/**
 * Move the verified files of `b` from staging into xobuilds-packed (replacing
 * the build's older files, kept aside), publish it, and on failure put the
 * older files back: what xobuilds-packed holds matches what is served.
 */
const commitAndPublish = async (
  layout: PublishLayout, staging: string, b: StickBuild, rec: IngestRecord, opts: IngestOptions, log: LogFn, unpacked?: StartedUnpack,
): Promise<BuildRecord> => {
  const placement = await placePackedFiles(layout, {
    name: b.name,
    from: staging,
    mine: [b.tarball, b.md5, b.contents, b.nameFile].map((f) => f.name),
    aside: join(staging, `old-${b.name}`),
    old: await packedFilesToReplace(layout.packed, baseOf(b), b.name, log),
  }, log)
  try {
    const res = await publishBuildInLock({
      config: opts.config, tarball: join(layout.packed, b.tarball.name), extra: { ingest: rec }, log,
      ...(opts.onProgress && { onProgress: opts.onProgress }), ...(opts.signal && { signal: opts.signal }), ...(unpacked && { unpacked }),
    })
    await placement.done()
    return res.record
  } catch (er) {
    await placement.undo().catch((e: unknown) => { log('warning', `Could not put back the earlier files of build ${b.name}: ${(e as Error).message}`) })
    throw er
  }
}

/**
 * Ingest a stick: verify it completely (manifest, signature, every listed
 * file hashed while it is copied into the store's staging), then, holding
 * the store lock, commit each new build into xobuilds-packed and publish it.
 * Logs numbered steps and one final line; throws XsError on refusal, after
 * which nothing new is published and no staging is left. `check` stops
 * after verifying and changes nothing (no lock, no files written).
 */
export const ingest = async (opts: IngestOptions): Promise<IngestResult> => {
  const log = opts.log ?? silentLog
  const check = opts.check === true
  const { config, signal } = opts
  const steps = check ? STEPS.length - 1 : STEPS.length
  const stateDir = storeLayout(config.root).state
  const status = check ? undefined : new StatusRecorder(stateDir, opts.source, log)
  let stepNo = 0
  const step = (title: string): void => {
    stepNo++
    log('notice', `[${stepNo}/${steps}] ${title}`)
    status?.step(stepNo, steps, title)
  }
  const onProgress: OnProgress = (ev: ProgressEvent) => {
    opts.onProgress?.(ev)
    if (showsInStatus(ev, stepNo === STEPS.length)) status?.progress(Math.floor((ev.bytesDone / ev.bytesTotal) * 100), ev.build)
  }
  let label = opts.source
  let published: string[] = []
  let skipped: string[] = []

  const source = await (async () => {
    step(`${STEPS[0]} ${opts.source}`)
    return resolveSource(opts.source, { mountBase: config.mountBase, log, ...(signal && { signal }) })
  })().catch(async (er: unknown) => {
    const e = toXsError(er)
    await status?.finish({ finishedAt: new Date().toISOString(), source: label, ok: false, published, skipped, code: e.code, message: e.message, line: `FAILED: ${describeError(e)}` })
    throw e
  })
  label = source.label
  try {
    const result = await (async (): Promise<IngestResult> => {
      if (source.buildsDir === null) {
        const line = `DONE: ${label} holds no xs-xobuilds folder: no builds on this stick, nothing changed`
        log('notice', line)
        return { source: label, check, published, skipped, ignored: [], available: [], noBuilds: true, line }
      }
      const dir = source.buildsDir

      step(`${STEPS[1]} in ${dir}`)
      const stick: StickDir = await listStickDir(dir, source.shortNamesUpperCase)
      const m = await readStickManifest(stick)

      step(STEPS[2])
      const ring = await loadKeyring(config.keyring, { log })
      const sec = resolveSecurityMode(opts.security ?? config.security, ring.keys.length, config.keyring)
      log('notice', `Security is ${sec.mode} (${sec.why})`)
      const signature = await checkSignature(m, ring, sec.mode, log)

      step(STEPS[3])
      const entries = parseManifest(m.manifest.bytes, m.algo, m.manifest.path)
      const { files, ignored } = await statListedFiles(stick, entries, log)
      const { builds, extras } = await stickBuilds(files, m.algo, dir, signal)
      log('info', `The stick holds build${builds.length === 1 ? '' : 's'} ${list(builds.map((b) => b.name))}`)

      /** The builds to copy and publish; the others are skipped (already there). */
      const planAgainst = async (records: BuildRecord[]): Promise<StickBuild[]> => {
        const plans: StickBuild[] = []
        skipped = []
        for (const b of builds) {
          const rec = records.find((r) => r.name === b.name)
          const d = checkReplay({ name: b.name, md5: b.expectedMd5, algo: m.algo, tarballHash: b.tarball.hash, signedAt: signature?.created },
            rec === undefined ? undefined : { md5: rec.md5, ingest: ingestRecordOf(rec.extra) }, opts.allowDowngrade === true)
          if (d.action === 'same') {
            skipped.push(b.name)
            log('notice', `Build ${b.name} is already published (same tarball); skipped`)
            continue
          }
          if (d.action === 'replace') {
            log(d.downgrade ? 'warning' : 'info', `Build ${b.name} will replace the published ${b.name}${d.downgrade ? ' although the stick is older (--allow-downgrade)' : ''}`)
          }
          plans.push(b)
        }
        return plans
      }

      /**
       * Hash (and, with `staging`, copy) the files of `hashed`; the space check is for `plans`.
       * With `early`, each build's tarball is also unpacked as it is copied (read back from the
       * copy, not the stick), into the store's staging: published only once everything is verified.
       */
      const verifyAndCopy = async (plans: StickBuild[], staging: string | undefined, hashed = plans,
        early?: { layout: PublishLayout, unpacks: Map<string, StartedUnpack>, signal: AbortSignal }): Promise<void> => {
        step(STEPS[5])
        const streamed = [...hashed.flatMap((p) => [p.tarball, p.contents]), ...extras]
        const copyBytes = plans.reduce((n, p) => n + p.tarball.size + p.contents.size + p.md5.size + p.nameFile.size, 0)
        if (opts.spaceCheck === false) {
          log('info', 'Not checking the store for space (read-back of a stick, no store)')
        } else {
          const need = spaceNeeded(copyBytes, plans.reduce((n, p) => n + p.tarball.size, 0), config.reserveBytes)
          const { free } = await checkSpace(config.root, need)
          log('info', `The store needs ${describeNeed(need)}; ${Math.floor(free / 1024 / 1024)} MB free`)
        }

        const total = streamed.reduce((n, f) => n + f.size, 0)
        step(`${STEPS[6]} ${(total / 1024 / 1024).toFixed(1)} MB`)
        const meter = new ProgressMeter({ step: check ? 'verify' : 'copy', bytesTotal: total, onProgress })
        // One unpack at a time (memory, CPUs): a tarball copied while an earlier one is still
        // unpacking is unpacked when its build is published.
        let unpacking = false
        for (const f of streamed) {
          const dest = staging !== undefined && !extras.includes(f) ? join(staging, f.name) : undefined
          const plan = unpacking ? undefined : plans.find((p) => p.tarball === f)
          let follower: CopyFollower | undefined
          if (early !== undefined && dest !== undefined && plan !== undefined) {
            follower = new CopyFollower(dest)
            log('info', `Unpacking build ${plan.name} from ${f.path} as it is copied`)
            const started = await startUnpack(early.layout, {
              // the bytes are the stick file's (the verified copy): messages name that file, not ROOT/tmp
              tarball: f.path, source: { stream: follower.stream(), size: f.size }, backend: config.backend,
              expectedMd5: plan.expectedMd5, build: plan.name, log, signal: early.signal, onProgress,
            })
            early.unpacks.set(plan.name, started)
            unpacking = true
            started.result.then(() => { unpacking = false }, () => { unpacking = false })
          }
          try {
            await copyVerified({
              file: f, algo: m.algo, meter, ...(dest !== undefined && { dest }), ...(signal && { signal }),
              ...(follower !== undefined && { onWritten: (n: number) => follower.wrote(n) }),
            })
            follower?.complete()
          } catch (er) {
            follower?.fail(er)
            throw er
          }
        }
        meter.finish()
        if (staging !== undefined) {
          for (const p of plans) {
            await writeFile(join(staging, p.md5.name), p.md5Bytes, { flag: 'wx', mode: 0o644 })
            await writeFile(join(staging, p.nameFile.name), p.nameBytes, { flag: 'wx', mode: 0o644 })
          }
        }
        const matched = streamed.length + builds.length * 2 // every .md5 and .name was hashed when read
        log('notice', matched === files.length
          ? `All ${files.length} listed files match the manifest`
          : `The ${matched} files of the build${hashed.length === 1 ? '' : 's'} to publish match the manifest (${list(skipped)} already published, not read again)`)
      }

      if (check) {
        step(STEPS[4])
        const plans = await planAgainst(await listBuilds(config))
        // --check verifies every listed file, also those of builds already published
        await verifyAndCopy(plans, undefined, builds)
        published = plans.map((p) => p.name)
        const line = `CHECKED: ${label} is valid; ${plans.length === 0 ? 'nothing new to publish' : `would publish ${list(published)}`}` +
          `${skipped.length === 0 ? '' : ` (already published: ${list(skipped)})`}; nothing was changed`
        log('notice', line)
        return { source: label, check, security: sec.mode, ...(signature && { signature }), published, skipped, ignored, available: (await listBuilds(config)).map((r) => r.name), noBuilds: false, line }
      }

      return await withStoreLock(config, {
        wait: true,
        onWait: () => log('notice', 'Another stick is being processed; waiting for it to finish'),
        log,
        ...(signal && { signal }),
      }, async (layout) => {
        step(STEPS[4])
        const plans = await planAgainst(await listBuilds(config))
        if (plans.length > 0) {
          const staging = await makeStagingDir(layout.tmp, 'ingest')
          const unpacks = new Map<string, StartedUnpack>()
          const stopUnpacks = new AbortController()
          try {
            await verifyAndCopy(plans, staging, plans, {
              layout, unpacks, signal: signal === undefined ? stopUnpacks.signal : AbortSignal.any([stopUnpacks.signal, signal]),
            })
            step(`${STEPS[7]} ${list(plans.map((p) => p.name))}`)
            let failure: XsError | undefined
            for (const p of plans) {
              const rec: IngestRecord = {
                signedAt: signature?.created.toISOString() ?? null,
                signedBy: signature?.fingerprint ?? null,
                manifest: m.algo,
                tarballHash: p.tarball.hash,
                source: label,
                ingestedAt: new Date().toISOString(),
              }
              try {
                await commitAndPublish(layout, staging, p, rec, { ...opts, onProgress }, log, unpacks.get(p.name))
                published.push(p.name)
              } catch (er) {
                const e = toXsError(er)
                log('err', `Build ${p.name} was not published: ${e.message}`)
                failure ??= e
              }
            }
            if (published.length > 0) await writeRsyncdConfInLock(config, log)
            if (failure !== undefined) {
              throw new XsError(failure.code, `${failure.message}${published.length === 0 ? '' : ` (published anyway: ${list(published)})`}`,
                { ...(failure.path !== undefined && { path: failure.path }), cause: failure })
            }
          } finally {
            // unpacks not published (a refusal, a failure): stop them and drop their staging
            stopUnpacks.abort(new XsError('E_INTERNAL', 'the ingest ended before this build was published'))
            for (const u of unpacks.values()) {
              await u.result.catch(() => {})
              await rm(u.staging, { recursive: true, force: true })
            }
            await rm(staging, { recursive: true, force: true })
          }
        } else {
          log('notice', 'Nothing new on this stick')
        }
        const available = (await listBuilds(config)).map((r) => r.name)
        const line = `DONE: builds now available to laptops: ${list(available)}` +
          (available[0] === undefined ? '' : ` (rsync://${hostname()}/build-${available[0]})`) +
          `; from this stick: ${published.length === 0 ? 'nothing new' : `published ${list(published)}`}` +
          (skipped.length === 0 ? '' : `, already there ${list(skipped)}`)
        log('notice', line)
        return { source: label, check, security: sec.mode, ...(signature && { signature }), published, skipped, ignored, available, noBuilds: false, line }
      })
    })()
    await status?.finish({ finishedAt: new Date().toISOString(), source: label, ok: true, published, skipped, line: result.line })
    return result
  } catch (er) {
    let e = toXsError(er)
    if (signal?.aborted === true && (er === signal.reason || !(er instanceof XsError))) {
      e = new XsError('E_STICK_CHANGED', `${label}: stopped before the end (${String((signal.reason as Error | undefined)?.message ?? 'aborted')}); ` +
        `${published.length === 0 ? 'nothing was published' : `published before that: ${list(published)}`}`, { cause: er })
    }
    await status?.finish({ finishedAt: new Date().toISOString(), source: label, ok: false, published, skipped, code: e.code, message: e.message, line: `FAILED: ${describeError(e)}` })
    throw e
  } finally {
    await source.release()
  }
}
