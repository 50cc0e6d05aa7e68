// A bzip2 bomb and an inode bomb on a small store (tmpfs with few inodes):
// the unpack stops at the store's reserve with E_NO_SPACE naming the build and
// what ran out (bytes or inodes); the store never reaches zero; one FAILED
// line; nothing published; the earlier build is still served; tmp empty.
import t, { type Test } from 'tap'
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmdirSync, readlinkSync, rmSync, statfsSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { publishLayout } from '@xs-rsync/publisher'
import { copyPackedBuild, testStore } from './lib/test-store.js'
import { xsRsync } from './lib/xs-cli.js'

const dir = t.testdir({})
// outside the test folder: tap removes that folder before this file's teardown unmounts
const mnt = mkdtempSync(join(tmpdir(), 'xs-exhaust-'))
const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=48m,nr_inodes=12000', 'xs-exhaust', mnt])
if (m.status !== 0) throw new Error(`cannot mount a small tmpfs: ${m.stderr.toString()}`)
t.teardown(() => { spawnSync('umount', [mnt]); rmdirSync(mnt) })

const config = testStore(mnt, 'fake-super')
const layout = publishLayout(config.root)
const confFile = join(dir, 'xs-rsync.conf')
writeFileSync(confFile, 'reserve = 8M\n')
/** Put the tarball into xobuilds-packed as build NAME and run `xs-rsync refresh`. */
const publish = (tarball: string, name: string): ReturnType<typeof xsRsync> => {
  copyPackedBuild(config, name, name, tarball, tarball.endsWith('.xz') ? 'tar.xz' : 'tar.bz2')
  return xsRsync(config, ['refresh', '--config', confFile])
}

/** The lowest free bytes and inodes seen while `run` goes on (polled every 20 ms in a child). */
const lowest = (run: () => ReturnType<typeof xsRsync>): { r: ReturnType<typeof xsRsync>, minBytes: number, minInodes: number } => {
  const log = join(dir, `free-${Date.now()}.log`)
  const poller = spawn('bash', ['-c', `while :; do stat -f -c '%a %S %d' ${mnt} >> ${log}; sleep 0.02; done`], { stdio: 'ignore' })
  try {
    const r = run()
    return { r, ...readLowest(log) }
  } finally {
    poller.kill()
  }
}
const readLowest = (log: string): { minBytes: number, minInodes: number } => {
  const rows = execFileSync('cat', [log], { encoding: 'utf8' }).trim().split('\n').map((l) => l.split(' ').map(Number))
  return {
    minBytes: Math.min(...rows.map(([a = 0, s = 0]) => a * s)),
    minInodes: Math.min(...rows.map(([, , d = 0]) => d)),
  }
}

const served = (): Record<string, string> => Object.fromEntries(readdirSync(layout.builds).filter((b) => !b.startsWith('.')).map((b) => [b, readlinkSync(join(layout.builds, b))]))
const failedLines = (r: { stdout: string, stderr: string }): string[] => (r.stdout + r.stderr).split('\n').filter((l) => l.includes('FAILED:'))

t.test('an earlier build is published first', async (t) => {
  const src = join(dir, 'ok')
  execFileSync('bash', ['-c', `mkdir -p ${src}/etc && echo one > ${src}/etc/issue && tar -C ${src} -cJf ${dir}/ok.tar.xz .`])
  const r = publish(join(dir, 'ok.tar.xz'), 'b1')
  t.equal(r.status, 0, r.stderr)
})

const refused = (t: Test, what: string, tarball: string, name: string, message: RegExp): void => {
  const before = served()
  const { r, minBytes, minInodes } = lowest(() => publish(tarball, name))
  t.equal(r.status, 5, `E_NO_SPACE exit code: ${r.stderr.slice(-400)}`)
  const failed = failedLines(r)
  t.equal(failed.length, 1, 'one FAILED line')
  t.match(failed[0], message)
  t.same(served(), before, 'nothing published, the earlier build still served')
  t.same(readdirSync(layout.tmp), [], 'store tmp empty')
  const st = statfsSync(mnt)
  t.ok(minBytes > 0 && minInodes > 0, `${what}: the store never reached zero (lowest ${minBytes} bytes, ${minInodes} inodes free; now ${st.bavail * st.bsize} bytes, ${st.ffree} inodes)`)
}

const removePacked = (name: string): void => {
  for (const f of [`${name}-tree.tar.bz2`, `${name}-tree.tar.bz2.md5`, `${name}.contents`, `${name}.name`]) rmSync(join(layout.packed, f))
}

t.test('bzip2 bomb: one file of 1 GiB of zeros, refused from its header', async (t) => {
  const bomb = join(dir, 'bomb.tar.bz2')
  execFileSync('bash', ['-c', `cd ${dir} && truncate -s 1G zeros && tar -cf - zeros | bzip2 -9 > ${bomb} && rm zeros`])
  refused(t, 'bytes', bomb, 'bomb', /FAILED: .*build bomb: the store ran out of free space while unpacking: .* the next entry needs up to 1024\.0 MB/)
  removePacked('bomb')
})

t.test('bzip2 bomb: 200 files of 1 MiB of zeros, refused as the reserve comes near', async (t) => {
  const bomb = join(dir, 'bomb2.tar.bz2')
  execFileSync('bash', ['-c', `mkdir -p ${dir}/z && cd ${dir}/z && for i in $(seq 1 200); do truncate -s 1M f$i; done && tar -cf - . | bzip2 -9 > ${bomb} && cd .. && rm -rf z`])
  refused(t, 'bytes', bomb, 'bomb2', /FAILED: .*build bomb2: the store ran out of free space while unpacking: .* the next entry needs up to 1\.0 MB and 8\.0 MB stay in reserve/)
  removePacked('bomb2')
})

t.test('inode bomb: 30,000 empty files', async (t) => {
  const src = join(dir, 'many')
  execFileSync('bash', ['-c', `mkdir -p ${src}/d && cd ${src}/d && seq 1 30000 | xargs touch && tar -C ${src} -cjf ${dir}/many.tar.bz2 . && rm -rf ${src}`])
  refused(t, 'inodes', join(dir, 'many.tar.bz2'), 'many', /FAILED: .*build many: the store ran out of free inodes \(files\) while unpacking/)
})
