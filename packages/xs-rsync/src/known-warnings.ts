/**
 * Node's warnings that only confuse the person reading /var/log/user.log.
 *
 * Debian 12's Node 18 prints "ExperimentalWarning: The Ed25519 Web Crypto API
 * algorithm is an experimental feature" the first time openpgp checks an
 * Ed25519 signature: it names no file and asks nothing of anyone, yet it lands
 * in the syslog between the steps of an ingest. Every other warning is still
 * printed, in Node's own words.
 */
export const isKnownWarning = (w: Pick<Error, 'name' | 'message'>): boolean =>
  w.name === 'ExperimentalWarning' && /Web Crypto API algorithm/.test(w.message)

/** Replace Node's printer of process warnings by one that leaves out the known ones. */
export const hideKnownWarnings = (write: (s: string) => void = (s) => { process.stderr.write(s) }): void => {
  process.removeAllListeners('warning')
  process.on('warning', (w) => {
    if (isKnownWarning(w)) return
    write(`(node:${process.pid}) ${w.name}: ${w.message}\n`)
  })
}
