// The whole system on a real machine (issue 12): Debian 12 booted in QEMU,
// xs-rsync installed from its .deb with apt, USB sticks hot-plugged through
// QMP. A real kernel notices each stick, Debian's udevd applies our rule, a
// real systemd starts xs-rsync-ingest@sdX1.service on Debian's own Node 18,
// rsyslog writes /var/log/user.log, and the host pulls the builds with a real
// `rsync -aH --numeric-ids` through a forward bound to 127.0.0.1.
//
// Runs when this is root with qemu-system-x86_64, qemu-img and mmdebstrap
// (scripts/system-deps.txt installs them); the guest image is built from
// Debian's packages once and cached (XS_VM_CACHE, default
// /var/tmp/xs-rsync-vm-cache, keyed by a hash of its inputs).
// Every step is its own subtest; when one fails, its failure shows the guest's
// journal and user.log, and the steps that need it are skipped.
import t, { type Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { makeKey, type TestKey } from '../../packages/agent/test/lib/gpg.js'
import { makeStick } from '../../packages/agent/test/lib/stick.js'
import { writeSampleBuild, sampleEntries, type SampleBuildFiles } from '../../packages/xs-rsync/src/demo/sample-build.js'
import { archiveEntries } from '../lib/archive-entries.js'
import { dumpTree } from '../lib/dump-tree.js'
import { compareTrees } from '../lib/tree-entry.js'
import { buildImage, Guest } from '../lib/vm/guest.js'
import { makeStickImage, type StickFs, type StickLayout } from '../lib/vm/usb-stick.js'

const REPO = join(import.meta.dirname, '..', '..')
const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0
const missing = ['qemu-system-x86_64', 'qemu-img', 'mmdebstrap', 'ssh', 'dpkg-deb', 'mkfs.vfat', 'mcopy', 'mkfs.ext4'].filter((c) => !has(c))
const skip = process.getuid?.() !== 0 ? 'needs root (mmdebstrap, the guest image)'
  : missing.length > 0 ? `not installed: ${missing.join(', ')} (scripts/ensure-system-deps.sh installs them)`
    : process.env.XS_SKIP_SYSTEM_TEST === '1' ? 'XS_SKIP_SYSTEM_TEST=1' : false

t.test('Debian 12 in QEMU: install the .deb, plug USB sticks', { skip }, async (t) => {
  const dir = t.testdir({})
  const cache = process.env.XS_VM_CACHE ?? '/var/tmp/xs-rsync-vm-cache'
  let guest: Guest | undefined
  // the guest's run folder is short: unix socket paths (QMP, the ssh master) must be under 108 bytes
  const vm = mkdtempSync('/tmp/xsvm-')
  t.teardown(async () => {
    await guest?.halt()
    rmSync(vm, { recursive: true, force: true })
  })

  /** A step: its own subtest; on failure it says which step and shows the guest's journal and user.log; later steps are skipped. */
  let broken = ''
  const step = async (name: string, fn: (t: Test) => Promise<void>): Promise<void> => {
    await t.test(name, broken !== '' ? { skip: `an earlier step failed: ${broken}` } : {}, async (t) => {
      try {
        await fn(t)
      } catch (er) {
        t.fail(`step "${name}" failed: ${(er as Error).stack ?? String(er)}`)
      }
      if (!t.passing()) {
        broken = name
        t.comment(`step "${name}" failed; the guest at that moment:\n${guest?.diagnostics() ?? '(no guest yet)'}`)
      }
    })
  }

  // On the host: the package, a NOC key, builds and sticks.
  let deb = ''
  let noc: TestKey | undefined
  t.teardown(() => noc?.dispose())
  const builds = new Map<string, SampleBuildFiles>()
  const images = new Map<string, string>()
  let userLogAt = 0

  const build = async (name: string, bigMiB = 0): Promise<SampleBuildFiles> => {
    const d = join(dir, `build-${name}`)
    mkdirSync(d, { recursive: true })
    const extra = bigMiB === 0 ? [] : [{
      // random text: bzip2 cannot shrink it much, so the stick holds a few MB to read slowly
      name: 'usr/share/big.txt', type: 'file' as const, mode: 0o644, uid: 0, gid: 0, mtime: new Date('2026-03-01T00:00:00Z'),
      content: (await import('node:crypto')).randomBytes(bigMiB * 768 * 1024).toString('base64'),
    }]
    const b = await writeSampleBuild(d, name, [...sampleEntries(), {
      name: 'etc/build-name', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: new Date('2026-02-01T00:00:00Z'), content: `${name}\n`,
    }, ...extra])
    builds.set(name, b)
    return b
  }
  const stick = (name: string, fs: StickFs, layout: StickLayout, signed = true): string => {
    const b = builds.get(name)!
    const folder = makeStick(join(dir, `stick-${name}-${fs}-${layout}`), [b], signed ? { key: noc! } : {})
    const img = makeStickImage(join(dir, `stick-${name}-${fs}-${layout}.img`), folder, fs, layout)
    images.set(`${name}-${fs}-${layout}${signed ? '' : '-unsigned'}`, img)
    return img
  }

  /** user.log lines written since the last call to markLog(). */
  const newLog = (): string => guest!.ssh(`tail -c +${userLogAt + 1} /var/log/user.log 2>/dev/null`, { timeoutMs: 30_000 }).stdout
  const markLog = (): void => { userLogAt = Number(guest!.ssh('stat -c %s /var/log/user.log 2>/dev/null || echo 0').stdout.trim() || 0) }
  /** Wait for the ingest's last line (DONE or FAILED) among the new user.log lines. */
  const waitEnd = (what: string, ms = 600_000): Promise<string> =>
    guest!.until(`${what}: a DONE or FAILED line in user.log`, () => {
      const s = newLog()
      return /xs-rsync(\[\d+\])?: (DONE|FAILED):/.test(s) ? s : undefined
    }, ms, 1000)
  /** The kernel name of the partition or disk the stick with `serial` got (device names repeat; serials do not). */
  const deviceOf = async (serial: string, partition: boolean): Promise<string> =>
    await guest!.until(`the guest's device for USB serial ${serial}`, () => {
      const r = guest!.ssh(`for l in /dev/disk/by-id/usb-*${serial}*; do [ -e "$l" ] && echo "$l $(basename "$(readlink -f "$l")")"; done`, { timeoutMs: 30_000 })
      const names = r.stdout.split('\n').filter(Boolean).map((l) => ({ link: l.split(' ')[0] ?? '', dev: l.split(' ')[1] ?? '' }))
      const hit = names.find((n) => partition ? /-part1$/.test(n.link) : !/-part\d+$/.test(n.link))
      return hit?.dev
    }, 60_000)
  /** Pull build NAME as root from the socket-activated daemon through the 127.0.0.1 forward; the differences from its archive. */
  const pullExact = async (t: Test, name: string): Promise<void> => {
    const dest = join(dir, `pulled-${name}-${Date.now()}`)
    const r = spawnSync('rsync', ['-aH', '--numeric-ids', '--timeout=120', `rsync://127.0.0.1:${guest!.rsyncPort}/build-${name}/root/`, `${dest}/`],
      { encoding: 'utf8', timeout: 240_000 })
    t.equal(r.status, 0, `rsync -aH --numeric-ids rsync://127.0.0.1:${guest!.rsyncPort}/build-${name}/root/: ${r.stderr}`)
    t.same(compareTrees(await archiveEntries(builds.get(name)!.tarball), dumpTree(dest, '')), [], `build ${name}: owners, modes, devices, links, times and content as in its archive`)
  }
  const modules = (): string[] => {
    const r = spawnSync('rsync', ['--timeout=60', `rsync://127.0.0.1:${guest!.rsyncPort}/`], { encoding: 'utf8', timeout: 90_000 })
    if (r.status !== 0) throw new Error(`rsync module list: ${r.stderr}`)
    return r.stdout.split('\n').map((l) => l.split(/\s/)[0] ?? '').filter(Boolean).sort()
  }
  /** Wait until the ingest unit has ended (its last log line comes before it unmounts and exits). */
  const unitDone = (unit: string): Promise<string> => guest!.until(`${unit} to end`, () => {
    const show = guest!.ssh(`systemctl show -p ActiveState -p Result ${unit}`).stdout
    return /ActiveState=(inactive|failed)/.test(show) ? show : undefined
  }, 300_000, 1000)
  /** Plug, wait for the ingest unit's last line, check the unit and the steps; unplug. Returns the new user.log lines. */
  const ingestStick = async (t: Test, id: string, image: string, serial: string, partition: boolean): Promise<string> => {
    markLog()
    await guest!.plug({ id, image, serial })
    const dev = await deviceOf(serial, partition)
    const log = await waitEnd(`the ingest of ${id} (/dev/${dev})`)
    const unit = `xs-rsync-ingest@${dev}.service`
    await unitDone(unit)
    t.match(guest!.must(`journalctl -b -u ${unit} --no-pager -o cat`), /Started|Finished|Starting/, `udev started ${unit}`)
    await guest!.unplug(id)
    return log
  }

  await step('host: build the .deb, a NOC key, builds and sticks', async (t) => {
    const made = spawnSync('bash', [join(REPO, 'scripts', 'make-deb.sh'), '--no-build', join(dir, 'deb')], { cwd: REPO, encoding: 'utf8', timeout: 300_000 })
    t.equal(made.status, 0, made.stderr)
    deb = made.stdout.trim().split('\n').at(-1) ?? ''
    noc = makeKey({ algo: 'ed25519', expire: '1y', uid: 'NOC <noc@example.invalid>' })
    writeFileSync(join(dir, 'noc.asc'), noc.armored)
    for (const n of ['101', '102', '103', '104', '106', '107']) await build(n)
    await build('105', 3)
    await build('108', 3)
    stick('101', 'vfat', 'mbr')
    stick('102', 'ext4', 'mbr')
    stick('103', 'vfat', 'superfloppy')
    stick('104', 'vfat', 'mbr', false)
    stick('105', 'vfat', 'mbr')
    stick('106', 'vfat', 'mbr')
    stick('107', 'ext4', 'mbr')
    stick('108', 'vfat', 'mbr')
  })

  await step('host: the Debian 12 image (mmdebstrap, cached)', async (t) => {
    const started = Date.now()
    await buildImage(cache, (s) => t.comment(s))
    t.comment(`image ready in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  })

  await step('boot the guest under qemu-system-x86_64 (TCG)', async (t) => {
    guest = new Guest({ cache, dir: vm })
    await guest.boot()
    t.comment(`systemd running ${guest.bootSeconds[0]} s after qemu started`)
    t.match(guest.must('node --version'), /^v18\./, 'Debian\'s own Node 18')
  })

  await step('install the .deb with apt; trust the NOC key', async (t) => {
    guest!.copyIn(deb, `/root/${basename(deb)}`)
    const out = guest!.must(`DEBIAN_FRONTEND=noninteractive apt-get install -y /root/${basename(deb)} 2>&1`, { timeoutMs: 300_000 })
    t.match(out, /Setting up xs-rsync/, 'apt installed it')
    t.match(guest!.must('getent passwd xs-rsync'), /^xs-rsync:x:\d+:\d+:.*:\/library\/xs-rsync:\/usr\/sbin\/nologin$/m, 'service user')
    t.equal(guest!.must('stat -c %U /library/xs-rsync/pub').trim(), 'xs-rsync', 'the store, owned by it')
    t.equal(guest!.must('systemctl is-enabled xs-rsyncd.socket xs-rsync-clean-tmp.timer').trim(), 'enabled\nenabled')
    t.equal(guest!.must('systemctl is-active xs-rsyncd.socket').trim(), 'active', 'rsync socket listening')
    t.equal(guest!.ssh('ls /etc/systemd/system/xs-rsync* 2>/dev/null').stdout, '', 'no unit copies in /etc: the package\'s /lib units are used')
    t.ok(guest!.ssh('test -s /etc/xs-rsync/rsyncd.conf').status === 0, 'rsync config generated')
    guest!.copyIn(join(dir, 'noc.asc'), '/root/noc.asc')
    t.match(guest!.must('xs-rsync keys add /root/noc.asc --no-syslog 2>&1'), /NOC|added|trusted/i)
    t.same(modules(), [], 'the daemon answers through the 127.0.0.1 forward (no builds yet: no modules)')
  })

  await step('1. signed FAT stick with a partition table: udev -> ingest unit -> steps, DONE -> pulled exactly', async (t) => {
    const log = await ingestStick(t, 'stick101', images.get('101-vfat-mbr')!, 'XS101FATMBR', true)
    t.match(log, /\[1\/\d\] /, 'numbered steps')
    t.match(log, /\[\d\/\d\] Copying/, 'the copy step')
    t.match(log, /xs-rsync(\[\d+\])?: DONE: builds now available to laptops: 101/, 'DONE line')
    t.notMatch(log, /FAILED/)
    // Node 18 warns of its experimental Ed25519 on the first signature check: not for the technician's eyes
    t.notMatch(log, /\(node:\d+\)|ExperimentalWarning/, 'no Node warning in user.log')
    t.ok(modules().includes('build-101'))
    await pullExact(t, '101')
  })

  await step('2. ext4 stick, and FAT without a partition table (superfloppy)', async (t) => {
    t.match(await ingestStick(t, 'stick102', images.get('102-ext4-mbr')!, 'XS102EXT4', true), /DONE: builds now available to laptops: .*102/)
    t.match(await ingestStick(t, 'stick103', images.get('103-vfat-superfloppy')!, 'XS103SUPER', false), /DONE: builds now available to laptops: .*103/)
    await pullExact(t, '102')
    await pullExact(t, '103')
  })

  await step('3. unsigned stick on an enforcing server: refused, nothing published, 101 still served', async (t) => {
    const log = await ingestStick(t, 'stick104', images.get('104-vfat-mbr-unsigned')!, 'XS104UNSIGNED', true)
    t.match(log, /FAILED: stick is not signed/)
    t.notMatch(log, /DONE/)
    t.notOk(modules().includes('build-104'), 'not published')
    await pullExact(t, '101')
  })

  await step('4. stick pulled out in the middle of the copy: FAILED, no mount left, nothing published; plugged in again: ingested', async (t) => {
    markLog()
    const serial = 'XS105PULLED'
    await guest!.plug({ id: 'stick105', image: images.get('105-vfat-mbr')!, serial, bpsRead: 512 * 1024 })
    const dev = await deviceOf(serial, true)
    await guest!.until('the copy to start', () => (/\[\d\/\d\] Copying/.test(newLog()) ? true : undefined), 180_000, 300)
    await guest!.unplug('stick105', true)
    const log = await waitEnd('the pulled stick\'s job')
    t.match(log, /xs-rsync(\[\d+\])?: FAILED: /, 'its FAILED line')
    t.notMatch(log, /DONE/)
    await guest!.until(`xs-rsync-ingest@${dev}.service to stop`, () =>
      /ActiveState=(inactive|failed)/.test(guest!.ssh(`systemctl show -p ActiveState xs-rsync-ingest@${dev}.service`).stdout) ? true : undefined, 60_000)
    t.equal(guest!.ssh(`grep -c -e /run/xs-rsync -e '^/dev/${dev} ' /proc/mounts || true`).stdout.trim(), '0', 'no mount left')
    t.notOk(modules().includes('build-105'), 'nothing published')
    t.equal(guest!.must('ls -A /library/xs-rsync/tmp').trim(), '', 'no staging left')
    const again = await ingestStick(t, 'stick105', images.get('105-vfat-mbr')!, serial, true)
    t.match(again, /DONE: builds now available to laptops: .*105/, 'plugged in again: ingested')
    await pullExact(t, '105')
  })

  await step('5. two sticks plugged one right after the other: both ingested, one after the other', async (t) => {
    markLog()
    await guest!.plug({ id: 'stick106', image: images.get('106-vfat-mbr')!, serial: 'XS106TWO' })
    await guest!.plug({ id: 'stick107', image: images.get('107-ext4-mbr')!, serial: 'XS107TWO' })
    const devs = [await deviceOf('XS106TWO', true), await deviceOf('XS107TWO', true)]
    const both = await guest!.until('two DONE lines', () => {
      const s = newLog()
      if (/FAILED/.test(s)) throw new Error(`a FAILED line:\n${s}`)
      return (s.match(/xs-rsync(\[\d+\])?: DONE:/g) ?? []).length >= 2 ? s : undefined
    }, 900_000, 1000)
    t.match(both, /DONE: builds now available to laptops: .*106/)
    t.match(both, /DONE: builds now available to laptops: .*107/)
    // one after the other: the publishing (inside the store lock) of one ends before the other's begins
    const pids = [...both.matchAll(/xs-rsync\[(\d+)\]: \[(\d)\/(\d)\] Publishing/g)].map((m) => m[1])
    const dones = [...both.matchAll(/xs-rsync\[(\d+)\]: DONE/g)].map((m) => m[1])
    t.equal(new Set(pids).size, 2, 'two jobs')
    const idx = (re: RegExp): number => both.search(re)
    const firstDone = idx(new RegExp(`xs-rsync\\[${dones[0]}\\]: DONE`))
    const secondPublish = idx(new RegExp(`xs-rsync\\[${dones[1]}\\]: \\[\\d/\\d\\] Publishing`))
    t.ok(firstDone < secondPublish, 'the second job published after the first was done')
    for (const d of devs) await unitDone(`xs-rsync-ingest@${d}.service`)
    await guest!.unplug('stick106')
    await guest!.unplug('stick107')
    await pullExact(t, '106')
    await pullExact(t, '107')
  })

  await step('7. systemctl edit xs-rsyncd@.service: the drop-in survives xs-rsync setup and a reinstall of the .deb', async (t) => {
    const tasks = (): string => guest!.must('systemctl show -p TasksMax xs-rsyncd@probe.service').trim()
    t.equal(tasks(), 'TasksMax=16', 'the shipped limit')
    // systemctl edit wants a terminal (systemd 252: "Cannot edit units if not on a tty"): script(1) gives it one;
    // the "editor" writes the drop-in's text into the file systemctl hands it
    guest!.must(`printf '%s\\n' '#!/bin/sh' 'printf "[Service]\\nTasksMax=7\\n" > "$1"' > /root/set-tasks.sh && chmod +x /root/set-tasks.sh`)
    guest!.must(`SYSTEMD_EDITOR=/root/set-tasks.sh script -qec 'systemctl edit xs-rsyncd@.service' /dev/null`)
    t.match(guest!.must('cat /etc/systemd/system/xs-rsyncd@.service.d/override.conf'), /TasksMax=7/, 'systemctl edit wrote the drop-in')
    t.equal(tasks(), 'TasksMax=7', 'in force')
    guest!.must('xs-rsync setup --no-syslog 2>&1')
    t.equal(tasks(), 'TasksMax=7', 'kept by xs-rsync setup')
    guest!.must(`DEBIAN_FRONTEND=noninteractive apt-get install -y --reinstall /root/${basename(deb)} 2>&1`, { timeoutMs: 300_000 })
    guest!.must('systemctl daemon-reload')
    t.equal(tasks(), 'TasksMax=7', 'kept by reinstalling the .deb')
    t.match(guest!.must('cat /etc/systemd/system/xs-rsyncd@.service.d/override.conf'), /TasksMax=7/)
    await pullExact(t, '101')
  })

  await step('6. power cut in the middle of an ingest, boot again: store consistent, earlier builds served exactly, next stick ingested', async (t) => {
    markLog()
    await guest!.plug({ id: 'stick108', image: images.get('108-vfat-mbr')!, serial: 'XS108POWER', bpsRead: 512 * 1024 })
    await guest!.until('the copy to start', () => (/\[\d\/\d\] Copying/.test(newLog()) ? true : undefined), 180_000, 300)
    await sleep(1500)
    await guest!.powerCut()
    t.notOk(guest!.alive(), 'qemu is gone')
    await guest!.boot()
    t.comment(`booted again in ${guest!.bootSeconds.at(-1)} s`)
    t.same(modules(), ['build-101', 'build-102', 'build-103', 'build-105', 'build-106', 'build-107'], 'the builds published before the cut, no more')
    const list = guest!.must('xs-rsync list --no-syslog')
    for (const n of ['101', '102', '103', '105', '106', '107']) t.match(list, new RegExp(`\\b${n}\\b`), `${n} listed`)
    for (const n of ['101', '102', '103', '105', '106', '107']) await pullExact(t, n)
    userLogAt = 0
    markLog()
    const log = await ingestStick(t, 'stick108b', images.get('108-vfat-mbr')!, 'XS108AGAIN', true)
    t.match(log, /DONE: builds now available to laptops: .*108/, 'the next stick is ingested')
    t.equal(guest!.must('ls -A /library/xs-rsync/tmp').trim(), '', 'no staging left over from the cut')
    await pullExact(t, '108')
  })
})
