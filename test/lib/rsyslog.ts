// A real rsyslogd for tests: foreground (-n), its own config, imuxsock on a
// test socket, user.* written to a test user.log as
// "<facility>.<severity> <tag>: <msg>". Bounded start and stop.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

export interface Rsyslog {
  /** The unix datagram socket it listens on (pass as --syslog-socket). */
  socket: string
  /** Where user.* goes. */
  userLog: string
  /** user.log lines so far. */
  lines(): string[]
  /** Wait (bounded) until `pred` holds for the lines; returns them. Throws on timeout. */
  waitFor(pred: (lines: string[]) => boolean, timeoutMs?: number): Promise<string[]>
  stop(): Promise<void>
}

interface Teardown { teardown: (fn: () => unknown) => void }

const config = (dir: string, socket: string, userLog: string): string => `
global(workDirectory="${dir}")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="${socket}" RateLimit.Interval="0" UseSpecialParser="off")
template(name="sevtag" type="string" string="%syslogfacility-text%.%syslogseverity-text% %syslogtag%%msg%\\n")
user.* action(type="omfile" file="${userLog}" template="sevtag")
`

/**
 * Start rsyslogd with its files in `dir`; stopped at teardown if the test did
 * not stop it. The socket lives in a short temp folder (unix socket paths are
 * limited to 107 bytes).
 */
export const startRsyslog = async (t: Teardown, dir: string): Promise<Rsyslog> => {
  const sockDir = mkdtempSync(join(tmpdir(), 'xsrs-'))
  const socket = join(sockDir, 'log.sock')
  const userLog = join(dir, 'user.log')
  const conf = join(dir, 'rsyslog.conf')
  writeFileSync(conf, config(dir, socket, userLog))
  const child: ChildProcess = spawn('rsyslogd', ['-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const done = await Promise.race([exited.then(() => true), sleep(5000, false, { ref: false })])
    if (!done) {
      child.kill('SIGKILL')
      await exited
    }
  }
  t.teardown(async () => {
    await stop()
    rmSync(sockDir, { recursive: true, force: true })
  })
  for (let i = 0; !existsSync(socket); i++) {
    if (i > 100 || child.exitCode !== null) {
      await stop()
      throw new Error(`rsyslogd did not start: ${stderr}`)
    }
    await sleep(50)
  }
  const lines = (): string[] =>
    existsSync(userLog) ? readFileSync(userLog, 'utf8').split('\n').filter((l) => l !== '') : []
  return {
    socket,
    userLog,
    lines,
    waitFor: async (pred, timeoutMs = 10_000) => {
      const end = Date.now() + timeoutMs
      for (;;) {
        const l = lines()
        if (pred(l)) return l
        if (Date.now() > end) throw new Error(`timed out waiting for ${userLog}; it holds:\n${l.join('\n')}`)
        await sleep(50)
      }
    },
    stop,
  }
}
