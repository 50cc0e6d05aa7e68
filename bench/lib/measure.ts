/**
 * Run a command and measure it: wall seconds and the peak RSS of the
 * largest process it ran (getrusage RUSAGE_CHILDREN via a tiny python3
 * wrapper: Node does not report children's rusage).
 */
import { spawnSync } from 'node:child_process'

export interface Measured { seconds: number, maxRssMiB: number }

const WRAPPER = `
import resource, subprocess, sys, time, json
t = time.monotonic()
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
print(json.dumps({"rc": r.returncode, "seconds": time.monotonic() - t,
                  "maxrss": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
`

export const measure = (cmd: string[], opts: { cwd?: string, env?: NodeJS.ProcessEnv } = {}): Measured => {
  const r = spawnSync('python3', ['-c', WRAPPER, ...cmd], { encoding: 'utf8', cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'inherit'], timeout: 3_600_000 })
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { rc: number, seconds: number, maxrss: number }
  if (out.rc !== 0) throw new Error(`${cmd.join(' ')} exited ${out.rc}`)
  return { seconds: out.seconds, maxRssMiB: out.maxrss / 1024 }
}

export const ratio = (a: number, b: number): string => (a / b).toFixed(2)

/** Median of a few numbers. */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN

/** How many times each contender runs (XS_BENCH_ROUNDS, default 3). */
export const ROUNDS = Number(process.env.XS_BENCH_ROUNDS ?? 3)

/** 'os' (default): real file bytes of this machine's /usr; 'made' (XS_BENCH_CONTENT=made): the generated content of the first figures. */
export const CONTENT: 'os' | 'made' = process.env.XS_BENCH_CONTENT === 'made' ? 'made' : 'os'
