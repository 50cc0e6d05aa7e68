// Crash consistency: SIGKILL the real CLI (`xs-rsync ingest` of a stick that
// replaces the published build, `xs-rsync refresh` that replaces one build and
// adds or removes another) at each of its rename(2) calls and at seeded random
// moments, check what laptops see right after the kill, run the same command
// again, and check again.
// Shared by test/crash-consistency.ts (CI, ~100 points) and bench/crash.ts.
import { spawn, spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, watch, type FSWatcher } from 'node:fs'
import { dirname, join } from 'node:path'
import { acquireLock, type XsConfig } from '@xs-rsync/core'
import { groupPackedBuilds, publishLayout, readBuildName } from '@xs-rsync/publisher'
import { sampleEntries, type SampleEntry } from '../../packages/xs-rsync/src/demo/sample-build.js'
import { sampleBuild, stickOf, testConfig } from '../../packages/agent/test/lib/ingest-fixture.js'
import type { BuildFiles } from '../../packages/agent/test/lib/stick.js'
import { archiveEntries } from './archive-entries.js'
import { dumpTree } from './dump-tree.js'
import { listModules, pullBuild } from './pull-build.js'
import { startServe, type Served } from './start-serve.js'
import { compareTrees, type Tree } from './tree-entry.js'
import { configArgs, XS_BIN } from './xs-cli.js'

/** A small seeded PRNG (mulberry32): the same seed gives the same kill points. */
export const prng = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

export type Mode = 'ingest' | 'refresh'

/**
 * Where a kill is aimed: a moment the run shows (a log line, or a file it
 * creates, seen through inotify) plus a random delay; 'start' is the spawn
 * itself. 'rename' is exact: strace delivers SIGKILL on entry to the run's
 * `delayMs`-th rename(2) (every commit in the store is a rename), with one
 * libuv thread so that the count is global.
 */
export type Anchor = 'start' | 'copying' | 'packed' | 'unpacking' | 'unpacked' | 'tree' | 'swap' | 'record' | 'config' | 'rename'

const LINE_ANCHORS: Partial<Record<Anchor, RegExp>> = {
  copying: /\] Copying and verifying/,
  unpacking: /Unpacking build/,
  // logged when the tree is written, before contents, ownership, tree rename and swap
  unpacked: /: unpacked \//,
}

export interface KillPoint {
  mode: Mode
  anchor: Anchor
  /** Delay after the anchor; for 'rename', which rename (1 = the first). */
  delayMs: number
}

/** strace is there to aim kills at syscalls. */
export const haveStrace = (): boolean => spawnSync('strace', ['-V'], { stdio: 'ignore' }).status === 0

// no --seccomp-bpf: with it strace 6.1 miscounts when=N
const STRACE = ['strace', '-f', '-qq', '-e', 'trace=rename']

export interface CampaignFigures {
  seed: number
  /** Runs started with a kill planned; `killed` of them were killed mid-run. */
  points: number
  killed: number
  /** Kills by anchor and by the last step logged. */
  byAnchor: Record<string, number>
  byStep: Record<string, number>
  /** Served right after a kill: old or new version, by build. */
  servedOld: number
  servedNew: number
  /** rename(2) calls in one run, by mode (the sweep kills at each). */
  renamesPerRun: Record<string, number>
  /** Temp files of atomic writes left beside the config/records by killed runs (never served). */
  strayTemps: number
  problems: string[]
  ms: number
}

interface Version {
  label: string
  build: BuildFiles
  tree: Tree
}

/** A tree big enough that copy and unpack take a while: `mib` MiB of incompressible text plus the sample OS tree. */
const entriesOf = (variant: string, mib: number, rnd: () => number): SampleEntry[] => {
  const t0 = new Date('2026-02-01T00:00:00Z')
  const blob = Buffer.alloc(Math.floor(mib * 1024 * 1024 * 0.75))
  for (let i = 0; i < blob.length; i++) blob[i] = Math.floor(rnd() * 256)
  return [
    ...sampleEntries(),
    { name: 'etc/variant', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: t0, content: `${variant}\n` },
    { name: 'usr/lib', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: t0 },
    { name: 'usr/lib/blob', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: t0, content: blob.toString('base64') },
    { name: `usr/lib/only-in-${variant}`, type: 'file', mode: 0o4755, uid: 0, gid: 0, mtime: t0, content: variant },
  ]
}

const version = async (dir: string, name: string, label: string, mib: number, rnd: () => number): Promise<Version> => {
  const build = await sampleBuild(dir, name, '', entriesOf(label, mib, rnd))
  return { label, build, tree: await archiveEntries(build.tarball) }
}

const lsOr = (d: string): string[] => { try { return readdirSync(d).sort() } catch { return [] } }

/** Put exactly `builds` into xobuilds-packed (each file by rename, as a NOC copy would end). */
const setPacked = (config: XsConfig, builds: BuildFiles[]): void => {
  const packed = publishLayout(config.root).packed
  for (const f of lsOr(packed)) rmSync(join(packed, f))
  for (const b of builds) {
    for (const f of [b.tarball, b.md5File, b.contentsFile, b.nameFile]) {
      const to = join(packed, f.slice(f.lastIndexOf('/') + 1))
      copyFileSync(f, `${to}.part`)
      renameSync(`${to}.part`, to)
    }
  }
}

/**
 * pullBuild, faster when root: `fakeroot -s` spends about a second saving its
 * state, so root pulls for real (owners, devices) and dumpTree reads the
 * real ownership.
 */
const pull = (port: number, module: string, dest: string, state: string): { status: number | null, stderr: string } => {
  if (process.geteuid?.() !== 0) return pullBuild(port, module, dest, state)
  const r = spawnSync('rsync', ['-aH', '--numeric-ids', '--timeout=60', `rsync://127.0.0.1:${port}/${module}/`, `${dest}/`],
    { encoding: 'utf8', timeout: 180_000 })
  return { status: r.status, stderr: r.stderr + (r.error === undefined ? '' : String(r.error)) }
}

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  killed: boolean
  stderr: string
}

/** Run the CLI; kill it with SIGKILL at `point` (undefined: let it finish). Bounded. */
const runCli = async (config: XsConfig, args: string[], point?: KillPoint, opts: { traceTo?: string } = {}): Promise<Run> => {
  const layout = publishLayout(config.root)
  // unsigned sticks: this server is permissive by its config (an empty keyring elsewhere than the default refuses all)
  const keyring = args[0] === 'ingest' ? ['--keyring', config.keyring, '--security', 'permissive'] : []
  const cli = [process.execPath, XS_BIN, ...args, ...configArgs(config), '--no-syslog', ...keyring]
  const [cmd, ...argv] = point?.anchor === 'rename'
    ? [...STRACE, '-o', '/dev/null', '-e', `inject=rename:signal=SIGKILL:when=${point.delayMs}`, ...cli]
    : opts.traceTo !== undefined ? [...STRACE, '-o', opts.traceTo, ...cli] : cli
  const child = spawn(cmd!, argv, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, UV_THREADPOOL_SIZE: '1' } })
  let stderr = ''
  let fired = false
  let killed = false
  const watchers: FSWatcher[] = []
  const fire = (): void => {
    if (fired) return
    fired = true
    for (const w of watchers) w.close()
    const kill = (): void => { if (child.exitCode === null && child.signalCode === null) killed = child.kill('SIGKILL') }
    if (point!.delayMs <= 0) kill()
    else setTimeout(kill, point!.delayMs)
  }
  const onFile = (dir: string, match: (f: string) => boolean): void => {
    watchers.push(watch(dir, (_ev, f) => { if (f !== null && match(f)) fire() }))
  }
  if (point !== undefined) {
    const conf = config.rsyncdConf.slice(config.rsyncdConf.lastIndexOf('/') + 1)
    if (point.anchor === 'rename') fired = true
    else if (point.anchor === 'start') fire()
    else if (point.anchor === 'packed') onFile(layout.packed, () => true)
    else if (point.anchor === 'tree') onFile(layout.trees, (f) => f.includes('@'))
    else if (point.anchor === 'swap') onFile(layout.builds, (f) => f.includes('.tmp-'))
    else if (point.anchor === 'record') onFile(layout.records, (f) => f.includes('.tmp-'))
    else if (point.anchor === 'config') onFile(dirname(config.rsyncdConf), (f) => f.startsWith(`.${conf}.tmp-`))
  }
  const re = point === undefined ? undefined : LINE_ANCHORS[point.anchor]
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
    if (re !== undefined && re.test(stderr)) fire()
  })
  const exit = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])))
  const guard = setTimeout(() => child.kill('SIGKILL'), 120_000)
  const [code, signal] = await exit
  clearTimeout(guard)
  for (const w of watchers) w.close()
  // strace ends with its tracee's signal
  return { code, signal, killed: signal === 'SIGKILL' && (killed || point?.anchor === 'rename'), stderr }
}

/** The build step a run had reached: its last "[n/m] ..." or publisher line. */
const lastStep = (stderr: string): string => {
  const steps = stderr.split('\n').map((l) => l.replace(/^xs-rsync: (\w+: )?/, ''))
    .filter((l) => /^\[\d\/\d\] |^Unpacking build|^unpacked |^Published build|^Wrote |^Removed build|^Removing /.test(l))
  const l = steps.at(-1) ?? '(before the first step)'
  return l.replace(/^(\[\d\/\d\] \S+ \S+).*/, '$1').replace(/^(Unpacking build \S+).*/, '$1').replace(/^(Published build \S+).*/, '$1')
    .replace(/^unpacked .*/, 'Tree unpacked (next: tree rename, swap, record)')
    .replace(/^Wrote .*/, 'Wrote the rsync config').replace(/^Removing .*/, 'Removing old staging/trees')
}

export interface CampaignOptions {
  /** A fresh folder for stores, sticks and pulls. */
  dir: string
  /** Kills wanted (half in each store); runs that end before their kill are extra points. */
  points: number
  seed: number
  /** MiB of incompressible content per build version. */
  mib?: number
  /** Kill at every rename(2) of a run first (needs strace). Default: when strace is there. */
  sweep?: boolean
  /** Progress lines for long runs. */
  say?: (line: string) => void
}

/**
 * The campaign: half the points kill `ingest`, half kill `refresh`, each on
 * its own store served by a live `xs-rsync serve`, the two side by side.
 * Every point: kill, check
 * (daemon lists only complete builds; each is wholly the old or wholly the
 * new version as a laptop pulls it; every served build is still in
 * xobuilds-packed; lock free), run again to the end, check (the new
 * versions served, no staging, no temp symlink, lock free).
 */
export const crashCampaign = async (opts: CampaignOptions): Promise<CampaignFigures> => {
  const started = Date.now()
  const rnd = prng(opts.seed)
  const mib = opts.mib ?? 2
  const sweep = opts.sweep ?? haveStrace()
  const figures: CampaignFigures = {
    seed: opts.seed, points: 0, killed: 0, byAnchor: {}, byStep: {}, servedOld: 0, servedNew: 0, renamesPerRun: {}, strayTemps: 0, problems: [], ms: 0,
  }
  const versions = {
    a: await version(opts.dir, '44', 'A', mib, rnd),
    b: await version(opts.dir, '44', 'B', mib, rnd),
    c: await version(opts.dir, '45', 'C', mib / 4, rnd),
  }
  const allowed: Record<string, Version[]> = { 44: [versions.a, versions.b], 45: [versions.c] }
  let pulls = 0

  const campaign = async (mode: Mode, n: number): Promise<void> => {
    // one PRNG per store: the two campaigns run side by side and stay reproducible
    const rnd = prng(opts.seed + (mode === 'ingest' ? 1 : 2))
    const dir = join(opts.dir, mode)
    mkdirSync(join(dir, 'keys'), { recursive: true })
    const config = testConfig(dir, join(dir, 'keys'))
    mkdirSync(publishLayout(config.root).packed, { recursive: true })
    const sticks = mode === 'ingest' ? { a: stickOf(dir, [versions.a.build]), b: stickOf(dir, [versions.b.build]) } : undefined
    /** The two states a run goes between: build -> version label. */
    const states: Record<'a' | 'b', Record<string, string>> = mode === 'ingest'
      ? { a: { 44: 'A' }, b: { 44: 'B' } }
      : { a: { 44: 'A' }, b: { 44: 'B', 45: 'C' } }
    const argsFor = (to: 'a' | 'b'): string[] => {
      if (sticks !== undefined) return ['ingest', sticks[to]]
      setPacked(config, to === 'a' ? [versions.a.build] : [versions.b.build, versions.c.build])
      return ['refresh']
    }
    const layout = publishLayout(config.root)
    const first = await runCli(config, argsFor('a'))
    if (first.code !== 0) throw new Error(`${mode}: the first run failed (${first.code}): ${first.stderr}`)
    let at: 'a' | 'b' = 'a'
    // how many renames a run does: the sweep kills at each of them in turn
    let renames = 0
    if (sweep) {
      const trace = join(dir, 'renames.trace')
      const traced = await runCli(config, argsFor('b'), undefined, { traceTo: trace })
      if (traced.code !== 0) throw new Error(`${mode}: the traced run failed (${traced.code}): ${traced.stderr}`)
      renames = readFileSync(trace, 'utf8').split('\n').filter((l) => /\brename\(/.test(l)).length
      figures.renamesPerRun[mode] = renames
      at = 'b'
    }
    const serve: Served = await startServe({ config })
    const sayServed = (m: Record<string, string>): string => Object.entries(m).map(([k, v]) => `${k}:${v}`).join(' ')

    /** What laptops get now: build -> version label; problems listed. */
    const served = async (where: string, problems: string[]): Promise<Record<string, string>> => {
      const out: Record<string, string> = {}
      // A run killed while its flock(1) helper ran leaves the helper holding the
      // lock until it exits (packages/core/test/job-lock.ts): under heavy load
      // that can outlast the run's own exit. Stuck means not free within 10 s.
      try {
        const lock = await acquireLock(layout.lock, { wait: true, timeoutSeconds: 10 })
        await lock.release()
      } catch (er) {
        problems.push(`${where}: the store lock is not free within 10 s: ${(er as Error).message}`)
      }
      let modules: string[]
      try {
        modules = listModules(serve.port)
      } catch (er) {
        problems.push(`${where}: the daemon cannot list the modules (config does not parse?): ${(er as Error).message}`)
        return out
      }
      const packedNames = new Set<string>()
      const { groups } = groupPackedBuilds(lsOr(layout.packed))
      for (const g of groups) {
        if (g.name !== undefined && g.tarball !== undefined && g.md5 !== undefined && g.contents !== undefined) {
          const nm = await readBuildName(join(layout.packed, g.name)).catch(() => undefined)
          if (nm !== undefined) packedNames.add(nm)
        }
      }
      for (const m of modules.filter((x) => x.startsWith('build-'))) {
        const name = m.slice('build-'.length)
        const dest = join(dir, `pull-${pulls++}`)
        const r = pull(serve.port, `${m}/root`, dest, `${dest}.state`)
        if (r.status !== 0) {
          problems.push(`${where}: ${m} is listed but cannot be pulled (${r.status}): ${r.stderr.trim()}`)
          continue
        }
        const got = dumpTree(dest, process.geteuid?.() === 0 ? '' : `${dest}.state`)
        rmSync(dest, { recursive: true, force: true })
        rmSync(`${dest}.state`, { force: true })
        rmSync(`${dest}.paths`, { force: true })
        const diffs = (allowed[name] ?? []).map((v) => ({ v, d: compareTrees(v.tree, got) }))
        const same = diffs.find((x) => x.d.length === 0)
        if (same === undefined) {
          problems.push(`${where}: ${m} is neither wholly ${diffs.map((x) => x.v.label).join(' nor ')}: ${diffs.map((x) => x.d.slice(0, 3).join('; ')).join(' | ')}`)
        } else {
          out[name] = same.v.label
        }
        if (mode === 'ingest' && !packedNames.has(name)) problems.push(`${where}: ${m} is served but xobuilds-packed holds no complete build of that name (a refresh would fail or drop it)`)
      }
      return out
    }

    // runs that end before their kill comes are checked too, but do not count: go on until n kills (bounded)
    let kills = 0
    for (let i = 0; kills < n && i < 2 * n; i++) {
      const to = at === 'a' ? 'b' : 'a'
      const anchors: Anchor[] = mode === 'ingest'
        // ingest replaces 44 by 44: the config text stays the same and is not rewritten
        ? ['start', 'copying', 'copying', 'packed', 'unpacking', 'unpacking', 'unpacked', 'tree', 'swap', 'record']
        : ['start', 'unpacking', 'unpacking', 'unpacked', 'tree', 'swap', 'record', 'config', 'config']
      const anchor = anchors[Math.floor(rnd() * anchors.length)]!
      const maxDelay: Record<Anchor, number> = {
        start: 1000, copying: 60, packed: 3, unpacking: 400, unpacked: 30, tree: 8, swap: 4, record: 6, config: 6, rename: 0,
      }
      const point: KillPoint = i < renames ? { mode, anchor: 'rename', delayMs: i + 1 } : { mode, anchor, delayMs: Math.floor(rnd() * maxDelay[anchor]) }
      const where = `${mode} #${i} (${point.anchor === 'rename' ? `rename #${point.delayMs}` : `${anchor}+${point.delayMs}ms`}, ${at.toUpperCase()}->${to.toUpperCase()})`
      const problems: string[] = []
      const run = await runCli(config, argsFor(to), point)
      if (!run.killed && run.code !== 0) problems.push(`${where}: the run was not killed and failed (${run.code}): ${run.stderr}`)
      const now = await served(`${where} after the kill`, problems)
      for (const [b, v] of Object.entries(now)) {
        if (states[at][b] === v) figures.servedOld++
        else figures.servedNew++
      }
      const strays = [...lsOr(dirname(config.rsyncdConf)), ...lsOr(layout.records)].filter((f) => f.includes('.tmp-')).length
      figures.strayTemps = Math.max(figures.strayTemps, strays)
      // the next run (the same command again) completes and cleans up
      const again = await runCli(config, argsFor(to))
      if (again.code !== 0) problems.push(`${where}: the run after the kill failed (${again.code}): ${again.stderr}`)
      const after = await served(`${where} after the next run`, problems)
      if (sayServed(after) !== sayServed(states[to])) problems.push(`${where}: after the next run laptops get ${sayServed(after)}, not ${sayServed(states[to])}`)
      const staging = lsOr(layout.tmp)
      if (staging.length > 0) problems.push(`${where}: staging left after the next run: ${staging.join(' ')}`)
      const tmpLinks = lsOr(layout.builds).filter((f) => f.includes('.tmp-'))
      if (tmpLinks.length > 0) problems.push(`${where}: temp symlinks left after the next run: ${tmpLinks.join(' ')}`)
      figures.points++
      if (run.killed) {
        kills++
        figures.killed++
        figures.byAnchor[point.anchor] = (figures.byAnchor[point.anchor] ?? 0) + 1
        const step = `${mode}: ${lastStep(run.stderr)}`
        figures.byStep[step] = (figures.byStep[step] ?? 0) + 1
      }
      figures.problems.push(...problems)
      opts.say?.(`${where}: ${run.killed ? `killed at "${lastStep(run.stderr)}"` : 'ended before the kill'}; served ${sayServed(now)}${problems.length === 0 ? '' : `; ${problems.length} PROBLEM(S)`}`)
      at = to
    }
    await serve.stop()
  }

  const half = Math.ceil(opts.points / 2)
  await Promise.all([campaign('ingest', half), campaign('refresh', opts.points - half)])
  figures.ms = Date.now() - started
  return figures
}
