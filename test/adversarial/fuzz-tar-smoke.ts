// A short, seeded campaign of the tar fuzzer (bench/fuzz-tar.ts) in CI, so the
// harness keeps working and every commit meets a few hundred mutated archives:
// each one unpacked inside dest or refused with an XsError, dest removed,
// nothing written outside, no hang. The long runs and their figures are in
// docs/reliability.md#fuzzing.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const bench = fileURLToPath(new URL('../../bench/fuzz-tar.ts', import.meta.url))

t.test('150 mutated archives: no violation', async (t) => {
  const out = join(t.testdir({}), 'fuzz.json')
  const seed = Number(process.env.XS_FUZZ_SEED ?? 20261126)
  const r = spawnSync(process.execPath, ['--import', 'tsx', bench, '--cases', '150', '--seed', String(seed), '--out', out],
    { encoding: 'utf8', timeout: 600_000 })
  t.equal(r.status, 0, r.status === 0 ? `fuzzer exit status (seed ${seed})` : `fuzzer exit status (seed ${seed})\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`)
  const figures = JSON.parse(readFileSync(out, 'utf8')) as { cases: number, unpacked: number, refused: Record<string, number>, violations: string[] }
  t.same(figures.violations, [])
  t.equal(figures.cases, 150)
  const refused = Object.values(figures.refused).reduce((a, b) => a + b, 0)
  t.equal(figures.unpacked + refused, 150, 'every case unpacked or refused')
  t.ok(figures.unpacked > 0 && refused > 0, `both outcomes met (${figures.unpacked} unpacked, ${refused} refused)`)
})
