import { spawn } from 'node:child_process'
import { XsError } from '@xs-rsync/core'
import { exactTimeText, type ExactTime } from './file-time.js'

/** sort's own memory: it spills to `tmp` beyond this. */
const SORT_MEMORY = '16M'
/** Path bytes handed to one `xargs` (which splits them into touch calls within the kernel's argument limit). */
const BATCH_BYTES = 1024 * 1024

/** The Debian package of each program run here (sort and touch: coreutils). */
const PACKAGE_OF: Partial<Record<string, string>> = { xargs: 'findutils', perl: 'perl-base' }

/** utimensat(2)'s number where a 64-bit perl can call it with a 64-bit timespec. */
const UTIMENSAT: Partial<Record<string, number>> = { x64: 280, arm64: 88 }

/**
 * One perl process (perl-base is Essential in Debian) sets every record's
 * mtime with utimensat(AT_FDCWD, PATH, {UTIME_OMIT, MTIME}, AT_SYMLINK_NOFOLLOW):
 * what `touch -h -c -m -d @TIME` does, without a process per time. A name
 * that is gone is skipped, as touch -c does. Records: TIME<TAB>PATH<NUL>.
 */
const PERL_SET_TIMES = String.raw`
use strict; use warnings;
my ($nr, $spool) = @ARGV;
open(my $in, '<', $spool) or die "cannot read $spool: $!\n";
local $/ = "\0";
my $n = 0;
while (my $rec = <$in>) {
  chop $rec;
  my ($t, $path) = split /\t/, $rec, 2;
  my ($neg, $int, $frac) = $t =~ /^(-?)(\d+)\.(\d{9})$/ or die "bad time record: $t\n";
  my ($sec, $nsec) = ($int + 0, $frac + 0);
  if ($neg) { if ($nsec > 0) { $sec = -$sec - 1; $nsec = 1000000000 - $nsec } else { $sec = -$sec } }
  my $ts = pack('q4', 0, 1073741822, $sec, $nsec);
  if (syscall($nr, -100, $path, $ts, 0x100) != 0) { next if $!{ENOENT}; die "cannot set the time of $path: $!\n" }
  $n++;
}
print "$n\n";
`

/**
 * One record of the exact-times spool: a name (relative to the served root,
 * byte string, '' = the root) whose mtime has nanoseconds, which Node cannot
 * set. NUL-terminated; `TIME<TAB>PATH`, TIME as `touch -d @TIME` takes it. Pure.
 */
export const exactTimeRecord = (time: ExactTime, path: string): string =>
  `${exactTimeText(time)}\t${path === '' ? '.' : path}\0`

const run = async (cmd: string, args: string[], opts: { cwd?: string, input?: Buffer, label?: string }, onOut?: (chunk: Buffer) => Promise<void>): Promise<void> => {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, LC_ALL: 'C' }, stdio: [opts.input === undefined ? 'ignore' : 'pipe', onOut === undefined ? 'ignore' : 'pipe', 'pipe'] })
  let err = ''
  child.stderr?.on('data', (d: Buffer) => { if (err.length < 4096) err += d.toString() })
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', (er) => reject(new XsError('E_TOOL_MISSING', `cannot run ${cmd} (Debian package "${PACKAGE_OF[cmd] ?? 'coreutils'}"): ${er.message}`, { cause: er })))
    child.on('close', (code) => resolve(code))
  })
  if (opts.input !== undefined) {
    child.stdin?.on('error', () => { /* the exit status tells */ })
    child.stdin?.end(opts.input)
  }
  try {
    if (onOut !== undefined && child.stdout !== null) for await (const chunk of child.stdout) await onOut(chunk as Buffer)
  } catch (er) {
    child.kill()
    await exited.catch(() => undefined)
    throw er
  }
  const code = await exited
  if (code !== 0) {
    throw new XsError('E_IO', `${opts.label ?? `${cmd} ${args.slice(0, 6).join(' ')}`} failed (exit ${code}): ${err.trim().split('\n').slice(0, 3).join('; ')}`, { path: opts.cwd })
  }
}

/** How the exact times are set: one perl process (where utimensat's number is known), or touch per time. */
export type ExactTimeSetter = 'perl' | 'touch'

/**
 * Give each name of `spool` (exactTimeRecord lines) its exact mtime, as GNU
 * tar restores it, with one perl process calling utimensat for every name;
 * where that is not possible (no perl, another architecture), with GNU
 * touch (`applyExactTimesWithTouch`). Only the mtime changes, symlinks are
 * not followed. Run after every other write into the tree. Returns the
 * number of names set.
 */
export const applyExactTimes = async (root: string, spool: string, tmp: string, how?: ExactTimeSetter): Promise<number> => {
  const nr = UTIMENSAT[process.arch]
  if (how === 'touch' || nr === undefined) return await applyExactTimesWithTouch(root, spool, tmp)
  let out = ''
  try {
    await run('perl', ['-e', PERL_SET_TIMES, String(nr), spool], { cwd: root, label: `perl (setting the exact times listed in ${spool})` }, async (chunk) => { out += chunk.toString() })
  } catch (er) {
    if (how === undefined && er instanceof XsError && er.code === 'E_TOOL_MISSING') return await applyExactTimesWithTouch(root, spool, tmp)
    throw er
  }
  return Number(out.trim())
}

/**
 * Give each name of `spool` (exactTimeRecord lines) its exact mtime, as GNU
 * tar restores it: names sharing a time take one `touch -h -c -m -d @TIME`
 * (through `xargs -0`, which keeps within the kernel's argument limit and
 * passes any bytes of a name); only the mtime changes, symlinks are not
 * followed. Run after every other write into the tree (a child's touch does
 * not change its folder's time). The spool is sorted by `sort -z` (bounded
 * memory), so memory does not grow with the names.
 */
export const applyExactTimesWithTouch = async (root: string, spool: string, tmp: string): Promise<number> => {
  let time = ''
  let batch: Buffer[] = []
  let bytes = 0
  let names = 0
  let rest = ''
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return
    const input = Buffer.concat(batch)
    batch = []
    bytes = 0
    await run('xargs', ['-0', '-r', 'touch', '-h', '-c', '-m', '-d', `@${time}`, '--'], { cwd: root, input })
  }
  await run('sort', ['-z', '-S', SORT_MEMORY, '-T', tmp, '--', spool], {}, async (chunk) => {
    const text = rest + chunk.toString('latin1')
    let at = 0
    for (let nul = text.indexOf('\0'); nul >= 0; nul = text.indexOf('\0', at)) {
      const rec = text.slice(at, nul)
      at = nul + 1
      const tab = rec.indexOf('\t')
      const t = rec.slice(0, tab)
      if (t !== time || bytes >= BATCH_BYTES) {
        await flush()
        time = t
      }
      const path = Buffer.from(rec.slice(tab + 1) + '\0', 'latin1')
      batch.push(path)
      bytes += path.length
      names++
    }
    rest = text.slice(at)
  })
  if (rest !== '') throw new XsError('E_INTERNAL', `${spool} ends inside a record`, { path: spool })
  await flush()
  return names
}
