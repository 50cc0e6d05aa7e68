// The command samples in the README and docs/ are real runs, kept true: every
// fenced block whose info string is "console sample" is run here, command by
// command, in a sandbox with its own store, config, HOME and stick folder, and
// each output line it shows must still appear, in order, in what the command
// prints. In a shown line, "..." stands for any text (times, sizes, rates).
// Paths the docs use (/media/usb, /library/xs-rsync, /etc/xs-rsync/keys...)
// are the sandbox's; 40-hex fingerprints are shown as FPR.
// The admin guide's syslog excerpts ("syslog sample SCENE" blocks) are checked
// the same way against /var/log/user.log lines of real runs (a real rsyslogd,
// sticks on loop devices): every line shown must be a line of that run, in
// order, once times, numbers, hashes and random names are set aside.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { appendFileSync, chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { sampleEntries, writeSampleBuild } from '../packages/xs-rsync/src/demo/sample-build.js'
import { XS_BIN } from './lib/xs-cli.js'
import { startRsyslog } from './lib/rsyslog.js'
import { attachLoop, ext4ImageOf } from './lib/stick-image.js'

const REPO = fileURLToPath(new URL('..', import.meta.url))

export interface SampleStep {
  command: string
  /** Lines the output must contain, in order ("..." = any text). */
  expect: string[]
  /** The markdown line of the command. */
  line: number
}

/** The "console sample" blocks of a markdown text, as commands and the lines each shows. Pure. */
export const parseSamples = (markdown: string): SampleStep[][] => {
  const blocks: SampleStep[][] = []
  let block: SampleStep[] | undefined
  let continued = false
  markdown.split('\n').forEach((text, i) => {
    if (block === undefined) {
      if (/^```console sample\s*$/.test(text)) block = []
      return
    }
    if (text.startsWith('```')) {
      blocks.push(block)
      block = undefined
      return
    }
    const last = block.at(-1)
    if (continued && last !== undefined) {
      last.command += '\n' + text
    } else if (text.startsWith('$ ')) {
      block.push({ command: text.slice(2), expect: [], line: i + 1 })
    } else if (last !== undefined && text.trim() !== '') {
      last.expect.push(text.trim())
    }
    continued = text.startsWith('$ ') || continued ? text.endsWith('\\') : false
  })
  return blocks
}

/** A shown line as a pattern: literal text, "..." matching anything. */
const linePattern = (shown: string): RegExp =>
  new RegExp(shown.split('...').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*'))

/** Index after the lines of `expect` found in order in `lines`, or the first one missing. */
const findInOrder = (lines: string[], expect: string[]): string | undefined => {
  let at = 0
  for (const e of expect) {
    const re = linePattern(e)
    const i = lines.findIndex((l, j) => j >= at && re.test(l))
    if (i < 0) return e
    at = i + 1
  }
  return undefined
}

t.test('parseSamples (table)', async (t) => {
  const md = [
    'text', '```sh', '$ not a sample', '```',
    '```console sample', '$ xs-rsync a \\', '    --b c', 'out 1', '', 'out 2', '$ xs-rsync d', '```', 'after',
  ].join('\n')
  t.same(parseSamples(md), [[
    { command: 'xs-rsync a \\\n    --b c', expect: ['out 1', 'out 2'], line: 6 },
    { command: 'xs-rsync d', expect: [], line: 11 },
  ]])
  t.equal(findInOrder(['a 1', 'b 2', 'c 3'], ['a ...', 'c 3']), undefined)
  t.equal(findInOrder(['a 1', 'b 2', 'c 3'], ['c 3', 'a 1']), 'a 1', 'order counts')
  t.equal(findInOrder(['a (1)'], ['a (1)']), undefined, 'regex characters are literal')
})

interface Sandbox {
  dir: string
  cwd: string
  env: NodeJS.ProcessEnv
  /** doc path -> sandbox path */
  paths: [string, string][]
}

const makeSandbox = async (dir: string): Promise<Sandbox> => {
  const cwd = join(dir, 'work')
  const home = join(dir, 'home')
  const bin = join(dir, 'bin')
  for (const d of [cwd, join(cwd, 'builds'), home, bin, join(dir, 'media', 'usb'), join(dir, 'store', 'xobuilds-packed'), join(dir, 'keys')]) mkdirSync(d, { recursive: true })
  chmodSync(home, 0o700)
  const conf = join(dir, 'xs-rsync.conf')
  writeFileSync(conf, [
    `root = ${join(dir, 'store')}`, `rsyncd-conf = ${join(dir, 'rsyncd.conf')}`, `rsyncd-template = ${join(dir, 'no-template.in')}`,
    `keyring = ${join(dir, 'keys')}`, `mount-base = ${join(dir, 'mnt')}`, 'reserve = 0', '',
  ].join('\n'))
  // "xs-rsync" in a sample is the built CLI with the sandbox's config, not syslog
  writeFileSync(join(bin, 'xs-rsync'), `#!/bin/sh\nexec '${process.execPath}' '${XS_BIN}' "$@" --config '${conf}' --no-syslog\n`, { mode: 0o755 })
  await writeSampleBuild(join(cwd, 'builds'), '44')
  await writeSampleBuild(join(cwd, 'builds'), '45', [...sampleEntries(),
    { name: 'etc/variant', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: new Date('2026-02-01T00:00:00Z'), content: '45\n' }])
  return {
    dir,
    cwd,
    env: { ...process.env, HOME: home, PATH: `${bin}:${process.env.PATH ?? ''}`, XS_RSYNC_PASSPHRASE: '' },
    paths: [
      ['/media/usb', join(dir, 'media', 'usb')],
      ['/library/xs-rsync', join(dir, 'store')],
      ['/etc/xs-rsync/rsyncd.conf', join(dir, 'rsyncd.conf')],
      ['/etc/xs-rsync/keys', join(dir, 'keys')],
      ['~', home],
    ],
  }
}

/** The fingerprint of the key `keys generate` made in ~/noc-key, if any. */
const madeKey = (sb: Sandbox): string | undefined => {
  try {
    return readdirSync(join(sb.paths.find(([d]) => d === '~')?.[1] ?? '', 'noc-key')).find((n) => n.endsWith('.secret.asc'))?.replace('.secret.asc', '')
  } catch {
    return undefined
  }
}

const runStep = (sb: Sandbox, step: SampleStep): { status: number | null, lines: string[], raw: string } => {
  let cmd = step.command
  for (const [doc, real] of sb.paths) cmd = doc === '~' ? cmd.replace(/~(?=\/|\s|$)/g, real) : cmd.split(doc).join(real)
  const fpr = madeKey(sb)
  if (fpr !== undefined) cmd = cmd.replace(/\bFPR\b/g, fpr)
  const r = spawnSync('bash', ['-c', cmd], { cwd: sb.cwd, env: sb.env, encoding: 'utf8', timeout: 300_000 })
  let out = `${r.stdout}\n${r.stderr}`
  for (const [doc, real] of [...sb.paths].sort((a, b) => b[1].length - a[1].length)) out = out.split(real).join(doc)
  out = out.replace(/\b[0-9A-F]{40}\b/g, 'FPR')
  return { status: r.status, lines: out.split('\n'), raw: out }
}

/** What a doc's samples need before they run (the admin guide starts with a NOC's stick). */
const PRELUDES: Record<string, (sb: Sandbox) => void> = {
  'docs/admin-guide.md': (sb) => {
    const noc = join(sb.dir, 'noc')
    const steps = [
      `xs-rsync keys generate "School NOC <noc@example.org>" --out ${noc}`,
      `cp ${noc}/*[0-9A-F].asc noc.asc`,
      `xs-rsync prepare-stick --out ${join(sb.dir, 'media', 'usb')} --sign-key ${noc}/*.secret.asc builds/os45-tree.tar.bz2`,
    ]
    for (const command of steps) {
      const r = spawnSync('bash', ['-c', command], { cwd: sb.cwd, env: sb.env, encoding: 'utf8', timeout: 300_000 })
      if (r.status !== 0) throw new Error(`prelude ${command}: ${r.stderr}`)
    }
  },
}

const DOCS = ['README.md', 'docs/noc-guide.md', 'docs/admin-guide.md']

for (const doc of DOCS) {
  t.test(`${doc}: every console sample still shows what it prints`, async (t) => {
    const blocks = parseSamples(readFileSync(join(REPO, doc), 'utf8'))
    if (blocks.length === 0) {
      t.pass('no samples')
      return
    }
    const sb = await makeSandbox(t.testdir({}))
    PRELUDES[doc]?.(sb)
    for (const step of blocks.flat()) {
      const r = runStep(sb, step)
      const where = `${doc}:${step.line} $ ${step.command}`
      const failed = step.expect.some((e) => e.includes('FAILED:'))
      t.equal(r.status !== 0, failed, `${where}: exit ${r.status}${failed ? ' (a failure is shown)' : ''}\n${r.raw}`)
      const missing = findInOrder(r.lines, step.expect)
      t.equal(missing, undefined, `${where}: shows this line\n--- output ---\n${r.raw}`)
    }
  })
}


/** The "syslog sample SCENE" blocks of a markdown text: scene -> shown lines. Pure. */
export const parseSyslogSamples = (markdown: string): Map<string, string[]> => {
  const out = new Map<string, string[]>()
  let scene: string | undefined
  for (const text of markdown.split('\n')) {
    if (scene === undefined) {
      scene = /^```syslog sample (\S+)\s*$/.exec(text)?.[1]
      if (scene !== undefined) out.set(scene, [])
    } else if (text.startsWith('```')) {
      scene = undefined
    } else if (text.trim() !== '') {
      out.get(scene)?.push(text)
    }
  }
  return out
}

/**
 * A syslog line (doc: "Nov 26 11:10:58 HOST TAG[PID]: MSG"; test rsyslogd:
 * "user.LEVEL TAG[PID]: MSG") as "TAG: MSG" with what differs between runs
 * set aside: fingerprints, hashes, mount folders, loop numbers, the host in
 * rsync URLs, then every number. Pure.
 */
export const logLineKey = (line: string): string | undefined => {
  const m = /^(?:\w{3} [ \d]\d \d\d:\d\d:\d\d \S+|user\.\w+) (xs-rsyncd?)\[\d+\]: (.*)$/.exec(line)
  if (m === null) return undefined
  const msg = (m[2] ?? '')
    .replace(/\b[0-9A-F]{40}\b/g, 'FPR').replace(/\b[0-9a-f]{32,64}\b/g, 'HASH')
    .replace(/\/run\/xs-rsync\/[^/\s]+/g, '/run/xs-rsync/MOUNT').replace(/rsync:\/\/[^/\s]+\//g, 'rsync://HOST/')
    .replace(/\d+(\.\d+)?/g, 'N')
  return `${m[1] ?? ''}: ${msg}`
}

t.test('parseSyslogSamples and logLineKey (table)', async (t) => {
  t.same([...parseSyslogSamples(['```syslog sample a', 'l1', '', 'l2', '```', '```', 'x', '```'].join('\n'))], [['a', ['l1', 'l2']]])
  const cases: Array<[string, string | undefined]> = [
    ['Nov 26 11:10:58 schoolserver xs-rsync[26383]: [1/8] Finding the builds on /dev/loop0', 'xs-rsync: [N/N] Finding the builds on /dev/loopN'],
    ['user.notice xs-rsync[7]: [1/8] Finding the builds on /dev/loop12', 'xs-rsync: [N/N] Finding the builds on /dev/loopN'],
    ['Nov  6 01:02:03 h xs-rsync[1]: Mounted /dev/loop0 at /run/xs-rsync/loop0-U3pwAs', 'xs-rsync: Mounted /dev/loopN at /run/xs-rsync/MOUNT'],
    ['user.info xs-rsyncd[9]: DONE: 45 (rsync://vm/build-45) by B48A7B4283F77201C63EFE358C15F03D6F4F4DED', 'xs-rsyncd: DONE: N (rsync://HOST/build-N) by FPR'],
    ['some other line', undefined],
  ]
  for (const [line, want] of cases) t.equal(logLineKey(line), want, line)
})

t.test('docs/admin-guide.md: every syslog excerpt is lines of a real run', async (t) => {
  const shown = parseSyslogSamples(readFileSync(join(REPO, 'docs/admin-guide.md'), 'utf8'))
  const sb = await makeSandbox(t.testdir({}))
  PRELUDES['docs/admin-guide.md']?.(sb)
  const conf = join(sb.dir, 'xs-rsync.conf')
  const rs = await startRsyslog(t, sb.dir)
  const env = { ...sb.env }
  delete env.INVOCATION_ID
  delete env.JOURNAL_STREAM
  const xs = (...args: string[]): string => {
    const r = spawnSync(process.execPath, [XS_BIN, ...args, '--config', conf, '--syslog-socket', rs.socket], { cwd: sb.cwd, env, encoding: 'utf8', timeout: 300_000 })
    return r.stderr
  }
  t.match(xs('keys', 'add', 'noc.asc'), /Added trusted NOC key/)
  /** The user.log lines a step adds (up to its final line). */
  const runScene = async (step: () => void): Promise<string[]> => {
    const before = rs.lines().length
    step()
    return (await rs.waitFor((l) => l.slice(before).some((x) => /: (DONE|FAILED): /.test(x)))).slice(before)
  }
  const stick = attachLoop(t, ext4ImageOf(join(sb.dir, 'stick.img'), join(sb.dir, 'media', 'usb'), { label: 'NOCSTICK' }))
  await writeSampleBuild(join(sb.cwd, 'builds'), '46')
  const altered = join(sb.dir, 'media', 'usb46')
  mkdirSync(altered)
  t.match(xs('prepare-stick', '--out', altered, '--sign-key', join(sb.dir, 'noc', `${madeNocKey(sb)}.secret.asc`), 'builds/os46-tree.tar.bz2'), /DONE: /)
  appendFileSync(join(altered, 'xs-xobuilds', 'os46-tree.tar.bz2'), 'altered after signing')
  const alteredStick = attachLoop(t, ext4ImageOf(join(sb.dir, 'stick46.img'), altered, { label: 'NOCSTICK' }))
  const scenes: Record<string, () => Promise<string[]>> = {
    'new-stick': () => runScene(() => { xs('ingest', stick) }),
    'same-stick': () => runScene(() => { xs('ingest', stick) }),
    'altered-stick': () => runScene(() => { xs('ingest', alteredStick) }),
  }
  t.same([...shown.keys()], Object.keys(scenes), 'the guide shows these runs, in this order')
  for (const [scene, run] of Object.entries(scenes)) {
    const real = await run()
    let text = real.join('\n')
    for (const [doc, path] of [...sb.paths, ['/run/xs-rsync', join(sb.dir, 'mnt')] as [string, string]].sort((a, b) => b[1].length - a[1].length)) text = text.split(path).join(doc)
    const keys = text.split('\n').map(logLineKey)
    let at = 0
    let missing: string | undefined
    for (const l of shown.get(scene) ?? []) {
      const i = keys.indexOf(logLineKey(l), at)
      if (i < 0) {
        missing = l
        break
      }
      at = i + 1
    }
    t.equal(missing, undefined, `${scene}: the guide's lines are lines of the real run, in order\n--- the real run ---\n${text}`)
  }
})

const madeNocKey = (sb: Sandbox): string =>
  readdirSync(join(sb.dir, 'noc')).find((n) => n.endsWith('.secret.asc'))?.replace('.secret.asc', '') ?? ''
