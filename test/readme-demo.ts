// The README's first command ends in `npm run demo`: it must work on a fresh machine. This runs it
// as written (system packages checked, then the demo: a throwaway NOC key signs a sample stick,
// `xs-rsync ingest` publishes it, `xs-rsync serve` serves it, a real rsync client pulls it under
// fakeroot) and checks what it shows the reader. It broke once unnoticed: `prepare-stick` began to
// refuse a stick folder that does not exist, and the demo had not made one.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const REPO = join(import.meta.dirname, '..')

t.test('npm run demo: signed stick ingested, served, pulled exactly; nothing left behind', async (t) => {
  // its own TMPDIR, so that "nothing left behind" is about this run alone
  const tmp = mkdtempSync(join(tmpdir(), 'xs-readme-demo-'))
  t.teardown(() => { rmSync(tmp, { recursive: true, force: true }) })
  const r = spawnSync('npm', ['run', 'demo'], { cwd: REPO, encoding: 'utf8', timeout: 300_000, env: { ...process.env, TMPDIR: tmp } })
  const out = `${r.stdout}${r.stderr}`
  t.equal(r.status, 0, `npm run demo exits 0:\n${out.slice(-2000)}`)
  t.notMatch(out, /demo failed/, 'no failure')
  t.match(out, /xs-rsync: DONE: builds now available to laptops: 45 .*the stick was signed by NOC key [0-9A-F]{40} \(Demo NOC \(throwaway\)/, 'the ingest\'s DONE line says the build and the signing key')
  t.match(out, /^-rwsr-xr-x 1 0 0 +\d+ \S+ su$/m, 'the laptop got a setuid root file')
  t.match(out, /^crw-rw-rw- 1 0 0 1, 3 \S+ null$/m, 'and a character device, owned by root')
  t.match(out, /^brw-rw---- 1 0 6 8, 1 \S+ sda1$/m, 'and a block device with its group')
  t.match(out, /== Done\. Temporary files removed/, 'the last step')
  t.same(readdirSync(tmp), [], 'its temporary folder is removed')
})
