/**
 * `npm run demo`: the main job on a generated sample, unprivileged, in a temp
 * folder. A throwaway NOC key signs a sample stick; `xs-rsync ingest`
 * verifies and publishes it; `xs-rsync serve` runs the rsync daemon on
 * 127.0.0.1; a real rsync client pulls the build; the demo shows what the
 * client got (numeric owners, setuid bit, devices, links) next to the archive.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateSigningKey } from '@xs-rsync/agent'
import { writeSampleBuild } from './sample-build.js'
import { writeSampleStick } from './sample-stick.js'

const bin = fileURLToPath(new URL('../../bin/xs-rsync.js', import.meta.url))
const say = (s: string): void => { process.stdout.write(`\n== ${s}\n`) }

const xs = (args: string[]): void => {
  process.stdout.write(`$ xs-rsync ${args.join(' ')}\n`)
  const r = spawnSync(process.execPath, [bin, ...args], { stdio: 'inherit', timeout: 300_000 })
  if (r.status !== 0) throw new Error(`xs-rsync ${args[0]} exited ${r.status}`)
}

const freePort = async (): Promise<number> => {
  const { createServer } = await import('node:net')
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      s.close(() => { resolve(typeof a === 'object' && a !== null ? a.port : 0) })
    })
  })
}

/**
 * Resolves once the rsync daemon greets ("@RSYNCD:") on 127.0.0.1:port. A
 * bare accepted connection could be `serve`'s own check that the port is free.
 */
const waitForRsyncd = async (port: number, ms: number): Promise<void> => {
  const until = Date.now() + ms
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      let got = ''
      const c = connect(port, '127.0.0.1')
      const end = (v: boolean): void => { c.destroy(); resolve(v) }
      c.setTimeout(2_000, () => { end(false) })
      c.on('data', (d: Buffer) => {
        got += d.toString('latin1')
        if (got.startsWith('@RSYNCD:')) end(true)
        else if (got.length >= 8) end(false)
      })
      c.on('error', () => { end(false) })
      c.on('close', () => { end(false) })
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`rsync daemon did not answer on 127.0.0.1:${port} within ${ms} ms`)
}

const main = async (): Promise<void> => {
  const keep = process.argv.includes('--keep')
  const tmp = await mkdtemp(join(tmpdir(), 'xs-rsync-demo-'))
  try {
    const root = join(tmp, 'store')
    const conf = join(tmp, 'xs-rsyncd.conf')
    const keys = join(tmp, 'keys')
    const common = ['--root', root, '--rsyncd-conf', conf, '--rsyncd-template', join(tmp, 'none.in')]
    await mkdir(keys)

    say('NOC side: a throwaway NOC key signs a sample stick with one build (45)')
    const key = await generateSigningKey('Demo NOC (throwaway)', 'noc@demo.invalid')
    await writeFile(join(keys, 'demo-noc.asc'), key.publicKey)
    const buildDir = join(tmp, 'build')
    await mkdir(buildDir)
    const build = await writeSampleBuild(buildDir, '45')
    const stickFolder = await writeSampleStick(join(tmp, 'stick'), [build], key.secretKey)
    process.stdout.write(spawnSync('ls', ['-l', stickFolder], { encoding: 'utf8' }).stdout)

    say('School server: the stick is plugged in (here: a folder), xs-rsync ingests it')
    xs(['ingest', '--keyring', keys, '--no-syslog', ...common, join(tmp, 'stick')])
    xs(['list', ...common])

    say('Serving it over rsync on 127.0.0.1 and pulling it like a laptop would')
    const port = await freePort()
    const serve = spawn(process.execPath, [bin, 'serve', '--address', '127.0.0.1', '--port', String(port), ...common], { stdio: 'inherit' })
    try {
      await waitForRsyncd(port, 15_000)
      const client = join(tmp, 'laptop')
      const state = join(tmp, 'laptop.fakeroot')
      const pull = spawnSync('fakeroot', ['-s', state, '--', 'rsync', '-aH', '--numeric-ids', `rsync://127.0.0.1:${port}/build-45/`, client + '/'],
        { stdio: 'inherit', timeout: 120_000 })
      if (pull.status !== 0) throw new Error(`rsync client exited ${pull.status}`)
      say('What the laptop got (ls -lnR under the client\'s fakeroot: owners, setuid, devices, links as built)')
      spawnSync('fakeroot', ['-i', state, '--', 'ls', '-lanR', '--time-style=+%Y-%m-%d', join(client, 'root')], { stdio: 'inherit' })
    } finally {
      serve.kill('SIGTERM')
      await new Promise((r) => serve.on('close', r))
    }
    say(`Done. ${keep ? `Everything is kept in ${tmp}` : 'Temporary files removed (use --keep to look at them).'}`)
  } finally {
    if (!keep) await rm(tmp, { recursive: true, force: true })
  }
}

main().catch((er: unknown) => {
  process.stderr.write(`demo failed: ${er instanceof Error ? er.message : String(er)}\n`)
  process.exitCode = 1
})
