// A reader that goes away must not crash xs-rsync half-way: real processes, real pipes.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const mod = pathToFileURL(join(import.meta.dirname, '..', 'dist', 'closed-output.js')).href
const bin = join(import.meta.dirname, '..', 'bin', 'xs-rsync.js')

// A script writes far more than a pipe holds to a reader that takes one byte and leaves,
// then says it is still alive on stderr and sets its own exit status.
const writer = (withFix: boolean): string => `
  ${withFix ? `const { ignoreClosedOutput } = await import(${JSON.stringify(mod)}); ignoreClosedOutput([process.stdout])` : ''}
  const big = 'x'.repeat(65536) + '\\n'
  for (let i = 0; i < 20; i++) process.stdout.write(big)
  setTimeout(() => { for (let i = 0; i < 20; i++) process.stdout.write(big); process.stderr.write('still alive\\n'); process.exitCode = 3 }, 300)
`
const run = (script: string): { status: number, stderr: string } => {
  const r = spawnSync('bash', ['-c', `"$0" --input-type=module -e "$1" | head -c 1 >/dev/null; echo "status=\${PIPESTATUS[0]}" >&2`, process.execPath, script],
    { encoding: 'utf8', timeout: 60_000 })
  return { status: Number(/status=(\d+)/.exec(r.stderr)?.[1]), stderr: r.stderr }
}

t.test('output to a reader that went away: the rest is dropped, the program goes on to its end', async (t) => {
  const fixed = run(writer(true))
  t.equal(fixed.status, 3, `its own exit status: ${fixed.stderr}`)
  t.match(fixed.stderr, /still alive/)
  t.notMatch(fixed.stderr, /EPIPE/)
  // without it Node crashes (so the check above can fail)
  const bare = run(writer(false))
  t.equal(bare.status, 1, 'Node alone exits 1')
  t.match(bare.stderr, /Error: write EPIPE/)
})

t.test('the CLI is wired to it: help into a pipe with no reader exits 0', async (t) => {
  // a FIFO opened for reading and writing, a writer on it, then the reader closed: every write
  // of the CLI meets a pipe nobody reads, with no race against the reader leaving
  const r = spawnSync('bash', ['-c', 'd=$(mktemp -d); trap \'rm -rf "$d"\' EXIT; mkfifo "$d/p"; exec 5<>"$d/p"; exec 6>"$d/p"; exec 5<&-; ' +
    '"$0" "$1" help >&6 2>&6; echo "status=$?"', process.execPath, bin], { encoding: 'utf8', timeout: 60_000 })
  t.match(r.stdout, /status=0/, r.stdout + r.stderr)
})
