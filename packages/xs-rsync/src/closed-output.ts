/**
 * When whoever reads xs-rsync's output goes away (`xs-rsync list | head`, a
 * closed ssh session, a parent that stopped reading), a write fails with
 * EPIPE. Node's default is to crash on it, with exit 1 and no FAILED line:
 * a job would stop half-way, and `serve` would leave its rsync daemon behind,
 * stuck writing its last log line to a FIFO nobody reads. Instead the rest
 * of that output is dropped and the command goes on to its own end (syslog
 * still gets every line). Any other error on the streams still throws.
 */
export const ignoreClosedOutput = (streams: NodeJS.WritableStream[] = [process.stdout, process.stderr]): void => {
  for (const s of streams) {
    s.on('error', (er: NodeJS.ErrnoException) => {
      if (er.code !== 'EPIPE') throw er
    })
  }
}
