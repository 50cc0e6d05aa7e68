/**
 * Run a command and measure it: wall seconds, the peak RSS of the largest
 * process it ran (getrusage RUSAGE_CHILDREN via a tiny python3 wrapper: Node
 * does not report children's rusage), and the peak of the sum over the
 * whole process tree (the command and its descendants, sampled from /proc
 * every 50 ms, so a peak shorter than that can be missed; shared pages count
 * once per process, so it is an upper bound).
 */
import { spawnSync } from 'node:child_process'

export interface Measured {
  seconds: number
  maxRssMiB: number
  treeRssMiB: number
  /** CPU time of the command and all its children, user and system (getrusage RUSAGE_CHILDREN). */
  userSeconds?: number
  systemSeconds?: number
}

const WRAPPER = `
import json, os, resource, subprocess, sys, threading, time
t = time.monotonic()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
peak = 0
def tree_rss():
    kids = {}
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                with open('/proc/' + d + '/stat') as f: s = f.read()
                kids.setdefault(int(s[s.rindex(')') + 2:].split()[1]), []).append(int(d))
            except (OSError, ValueError): pass
    total, to_visit = 0, [p.pid]
    while to_visit:
        q = to_visit.pop()
        try:
            with open('/proc/%d/statm' % q) as f: total += int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
        except (OSError, ValueError): pass
        to_visit += kids.get(q, [])
    return total
def sample():
    global peak
    while p.poll() is None:
        peak = max(peak, tree_rss())
        time.sleep(0.05)
th = threading.Thread(target=sample, daemon=True)
th.start()
rc = p.wait()
seconds = time.monotonic() - t
th.join()
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": rc, "seconds": seconds, "treerss": peak,
                  "maxrss": ru.ru_maxrss, "utime": ru.ru_utime, "stime": ru.ru_stime}))
`

export const measure = (cmd: string[], opts: { cwd?: string, env?: NodeJS.ProcessEnv } = {}): Measured => {
  const r = spawnSync('python3', ['-c', WRAPPER, ...cmd], { encoding: 'utf8', cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'inherit'], timeout: 3_600_000 })
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { rc: number, seconds: number, maxrss: number, treerss: number, utime: number, stime: number }
  if (out.rc !== 0) throw new Error(`${cmd.join(' ')} exited ${out.rc}`)
  return { seconds: out.seconds, maxRssMiB: out.maxrss / 1024, treeRssMiB: out.treerss / 1024 / 1024, userSeconds: out.utime, systemSeconds: out.stime }
}

export const ratio = (a: number, b: number): string => (a / b).toFixed(2)

/** Median of a few numbers. */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN

/** How many times each contender runs (XS_BENCH_ROUNDS, default 3). */
export const ROUNDS = Number(process.env.XS_BENCH_ROUNDS ?? 3)

/** 'os' (default): real file bytes of this machine's /usr; 'made' (XS_BENCH_CONTENT=made): the generated content of the first figures. */
export const CONTENT: 'os' | 'made' = process.env.XS_BENCH_CONTENT === 'made' ? 'made' : 'os'
