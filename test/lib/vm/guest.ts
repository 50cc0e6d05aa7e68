// The system test's Debian guest: booted headless under qemu-system-x86_64
// (TCG: KVM starts the firmware but never the kernel on this kind of machine),
// driven over ssh (one master connection: a fresh handshake costs 1-2 s of
// emulated CPU), USB sticks plugged and pulled through QMP.
//
// Network: qemu user-mode with restrict=on (the guest reaches nothing
// outside); the only ways in are two forwards bound to 127.0.0.1: ssh and the
// rsync port 873.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from '../free-port.js'
import { withQmp } from './qmp.js'

export interface GuestOptions {
  /** What build-image.sh made: rootfs.img, vmlinuz, initrd.img, ssh_key. */
  cache: string
  /** Run folder: overlay, sockets, logs. The overlay survives a power cut, so a boot after it sees the same disk. */
  dir: string
  memMiB?: number
  cpus?: number
}

export interface Plug {
  /** qemu device id (also names the block node drv-ID and the throttle group tg-ID). */
  id: string
  image: string
  /** USB serial number (ID_SERIAL_SHORT in the guest): device names repeat, serials do not. */
  serial: string
  vendor?: string
  model?: string
  /** Read rate limit in bytes per second (a slow stick, so a test can act in the middle of a copy). */
  bpsRead?: number
}

const sh = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`

export class Guest {
  readonly cache: string
  readonly dir: string
  sshPort = 0
  rsyncPort = 0
  private pid = 0
  private readonly mem: number
  private readonly cpus: number
  /** Seconds from qemu start to `systemctl is-system-running` = running, per boot. */
  readonly bootSeconds: number[] = []

  constructor (o: GuestOptions) {
    this.cache = o.cache
    this.dir = o.dir
    this.mem = o.memMiB ?? 1024
    this.cpus = o.cpus ?? 2
  }

  get qmpSocket (): string { return join(this.dir, 'qmp.sock') }
  private get sshConfig (): string { return join(this.dir, 'ssh_config') }

  /** Start qemu on the overlay (made on first boot) and wait until systemd says the system is running. */
  async boot (timeoutMs = 240_000): Promise<void> {
    mkdirSync(this.dir, { recursive: true })
    if (this.sshPort === 0) {
      this.sshPort = await freePort()
      this.rsyncPort = await freePort()
    }
    const overlay = join(this.dir, 'overlay.qcow2')
    if (!existsSync(overlay)) {
      const r = spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', join(this.cache, 'rootfs.img'), '-F', 'raw', overlay], { encoding: 'utf8' })
      if (r.status !== 0) throw new Error(`qemu-img create: ${r.stderr}`)
    }
    writeFileSync(this.sshConfig, [
      'Host guest', '  HostName 127.0.0.1', `  Port ${this.sshPort}`, '  User root', `  IdentityFile ${join(this.cache, 'ssh_key')}`,
      '  IdentitiesOnly yes', '  BatchMode yes', '  StrictHostKeyChecking no', '  UserKnownHostsFile /dev/null', '  LogLevel ERROR',
      '  ConnectTimeout 10', '  ServerAliveInterval 5', '  ServerAliveCountMax 6', '  ControlMaster no', `  ControlPath ${join(this.dir, 'ssh-cm')}`, '',
    ].join('\n'))
    for (const f of ['qmp.sock', 'qemu.pid', 'ssh-cm']) rmSync(join(this.dir, f), { force: true })
    const fwd = `hostfwd=tcp:127.0.0.1:${this.sshPort}-:22,hostfwd=tcp:127.0.0.1:${this.rsyncPort}-:873`
    const args = [
      '-accel', 'tcg,thread=multi,tb-size=256', '-cpu', 'max', '-machine', 'q35', '-m', String(this.mem), '-smp', String(this.cpus),
      '-name', 'xs-rsync-system-test', '-display', 'none', '-no-reboot',
      '-kernel', join(this.cache, 'vmlinuz'), '-initrd', join(this.cache, 'initrd.img'),
      '-append', 'root=/dev/vda rw console=ttyS0 panic=-1 quiet loglevel=3 systemd.show_status=auto',
      '-drive', `file=${overlay},if=virtio,format=qcow2,cache=writeback,discard=unmap`,
      '-netdev', `user,id=n0,restrict=on,${fwd}`, '-device', 'virtio-net-pci,netdev=n0,romfile=',
      '-device', 'qemu-xhci,id=xhci', '-device', 'virtio-rng-pci',
      '-serial', `file:${join(this.dir, `serial-${this.bootSeconds.length + 1}.log`)}`,
      '-qmp', `unix:${this.qmpSocket},server=on,wait=off`,
      '-pidfile', join(this.dir, 'qemu.pid'), '-daemonize',
    ]
    const started = Date.now()
    const q = spawnSync('qemu-system-x86_64', args, { encoding: 'utf8', timeout: 60_000 })
    if (q.status !== 0) throw new Error(`qemu-system-x86_64 failed (${q.status}): ${q.stderr}`)
    this.pid = Number(readFileSync(join(this.dir, 'qemu.pid'), 'utf8').trim())
    for (;;) {
      if (this.sshRaw(['-o', 'ConnectTimeout=5', 'guest', 'true'], 20_000).status === 0) break
      if (!this.alive()) throw new Error(`qemu exited during boot; serial console:\n${this.serialTail()}`)
      if (Date.now() - started > timeoutMs) throw new Error(`no ssh after ${timeoutMs / 1000} s; serial console:\n${this.serialTail()}`)
      await sleep(1000)
    }
    this.sshRaw(['-o', 'ControlMaster=yes', '-o', 'ControlPersist=yes', '-f', '-N', 'guest'], 30_000)
    const state = this.ssh('timeout 150 systemctl is-system-running --wait', { timeoutMs: 170_000 }).stdout.trim()
    this.bootSeconds.push((Date.now() - started) / 1000)
    if (state !== 'running') {
      throw new Error(`systemd is "${state}" after boot:\n${this.ssh('systemctl --failed --no-pager').stdout}`)
    }
  }

  alive (): boolean {
    if (this.pid === 0) return false
    try { process.kill(this.pid, 0); return true } catch { return false }
  }

  private serialTail (): string {
    const f = join(this.dir, `serial-${this.bootSeconds.length + 1}.log`)
    return existsSync(f) ? readFileSync(f, 'utf8').split('\n').slice(-30).join('\n') : '(no serial log)'
  }

  private sshRaw (args: string[], timeoutMs: number, input?: string | Buffer): SpawnSyncReturns<string> {
    return spawnSync('ssh', ['-F', this.sshConfig, ...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 1 << 26, ...(input !== undefined && { input }) })
  }

  /** Run `cmd` with the guest's /bin/sh as root; stdout, stderr, status come back. */
  ssh (cmd: string, o: { timeoutMs?: number, input?: string | Buffer } = {}): SpawnSyncReturns<string> {
    return this.sshRaw(['guest', cmd], o.timeoutMs ?? 120_000, o.input)
  }

  /** Like ssh, but a non-zero exit throws with the command's output. */
  must (cmd: string, o: { timeoutMs?: number, input?: string | Buffer } = {}): string {
    const r = this.ssh(cmd, o)
    if (r.status !== 0) throw new Error(`guest command failed (exit ${r.status}${r.error === undefined ? '' : `, ${r.error.message}`}): ${cmd}\n${r.stdout}${r.stderr}`)
    return r.stdout
  }

  /** Copy a host file into the guest. */
  copyIn (hostFile: string, guestPath: string): void {
    this.must(`cat > ${sh(guestPath)}`, { input: readFileSync(hostFile), timeoutMs: 120_000 })
  }

  /** Wait until `check()` returns a value other than undefined; polls every `everyMs`. */
  async until<T> (what: string, check: () => T | undefined, timeoutMs: number, everyMs = 500): Promise<T> {
    const end = Date.now() + timeoutMs
    for (;;) {
      const v = check()
      if (v !== undefined) return v
      if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`)
      if (!this.alive()) throw new Error(`qemu is gone while waiting for ${what}`)
      await sleep(everyMs)
    }
  }

  /** The guest's /var/log/user.log ('' before the first facility-user line). */
  userLog (): string { return this.ssh('cat /var/log/user.log 2>/dev/null', { timeoutMs: 30_000 }).stdout }

  /** Plug a disk image in as a USB stick: usb-bot on the xHCI bus, one removable scsi-hd, then attached (a hot-plugged usb-bot stays invisible until then). */
  async plug (p: Plug): Promise<void> {
    await withQmp(this.qmpSocket, async (q) => {
      const file = { driver: 'raw', file: { driver: 'file', filename: p.image } }
      if (p.bpsRead !== undefined) {
        await q.execute('object-add', { 'qom-type': 'throttle-group', id: `tg-${p.id}`, limits: { 'bps-read': p.bpsRead } })
        await q.execute('blockdev-add', { driver: 'throttle', 'node-name': `drv-${p.id}`, 'throttle-group': `tg-${p.id}`, file })
      } else {
        await q.execute('blockdev-add', { ...file, 'node-name': `drv-${p.id}` })
      }
      await q.execute('device_add', { driver: 'usb-bot', bus: 'xhci.0', id: p.id, serial: p.serial })
      await q.execute('device_add', {
        driver: 'scsi-hd', bus: `${p.id}.0`, 'scsi-id': 0, lun: 0, drive: `drv-${p.id}`, id: `${p.id}-lun0`, removable: true,
        vendor: p.vendor ?? 'XSTEST', product: p.model ?? 'Test Stick',
      })
      await q.execute('qom-set', { path: `/machine/peripheral/${p.id}`, property: 'attached', value: true })
    })
  }

  /** Pull the stick out (no unmount first), wait for qemu to finish, and free the image (blockdev-del: else the node stays open and the id cannot be plugged again). */
  async unplug (id: string, throttled = false): Promise<void> {
    await withQmp(this.qmpSocket, async (q) => {
      await q.execute('device_del', { id })
      await q.event('DEVICE_DELETED', (d) => d.device === id, 30_000)
      await q.execute('blockdev-del', { 'node-name': `drv-${id}` })
      if (throttled) await q.execute('object-del', { id: `tg-${id}` })
    })
  }

  /** Power cut: qemu stops at once, the guest gets no chance to flush or unmount. */
  async powerCut (): Promise<void> {
    this.sshRaw(['-O', 'exit', 'guest'], 10_000)
    await withQmp(this.qmpSocket, (q) => q.execute('quit')).catch(() => undefined)
    await this.until('qemu to exit', () => (this.alive() ? undefined : true), 30_000).catch(() => undefined)
    if (this.alive()) process.kill(this.pid, 'SIGKILL')
  }

  /** Stop the guest (qemu quits; the overlay is thrown away with the run folder). Never throws. */
  async halt (): Promise<void> {
    try { this.sshRaw(['-O', 'exit', 'guest'], 10_000) } catch {}
    if (!this.alive()) return
    await withQmp(this.qmpSocket, (q) => q.execute('quit'), 10_000).catch(() => undefined)
    for (let i = 0; i < 20 && this.alive(); i++) await sleep(250)
    if (this.alive()) process.kill(this.pid, 'SIGKILL')
  }

  /** What a person debugging a failed step wants to see: the guest's journal and user.log. */
  diagnostics (): string {
    if (!this.alive()) return `(guest not running; serial console:)\n${this.serialTail()}`
    const j = this.ssh('journalctl -b --no-pager -o short-monotonic -n 80', { timeoutMs: 60_000 })
    const u = this.ssh('tail -n 60 /var/log/user.log', { timeoutMs: 30_000 })
    return `--- guest journal (last 80 lines) ---\n${j.stdout}${j.stderr}\n--- guest /var/log/user.log (last 60 lines) ---\n${u.stdout}${u.stderr}`
  }
}

/** Build (or reuse) the guest image; the cache folder's path. Runs build-image.sh, streaming its log to `log`. */
export const buildImage = (cache: string, log: (s: string) => void, timeoutMs = 900_000): Promise<string> =>
  new Promise((resolve, reject) => {
    const script = new URL('./build-image.sh', import.meta.url).pathname
    // the system's tools first: mmdebstrap runs python3 (mmtarfilter) once per package, and a
    // version-manager shim in front of /usr/bin costs a second or more each time
    const env = { ...process.env, PATH: `/usr/sbin:/usr/bin:/sbin:/bin:${process.env.PATH ?? ''}` }
    const p = spawn('bash', [script, cache], { stdio: ['ignore', 'pipe', 'pipe'], env })
    let out = ''
    let err = ''
    const timer = setTimeout(() => p.kill('SIGTERM'), timeoutMs)
    p.stdout.on('data', (d: Buffer) => { out += d.toString() })
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); if (/^\[build-image/m.test(d.toString())) log(d.toString().trim()) })
    p.on('close', (code) => {
      clearTimeout(timer)
      if (code === 0) resolve(out.trim().split('\n').at(-1) ?? cache)
      else reject(new Error(`build-image.sh failed (${code}):\n${err.split('\n').slice(-40).join('\n')}`))
    })
  })
