// The classroom load test: 40 laptops pull one build at once from the
// socket-activated rsync daemon (xs-rsyncd.socket + xs-rsyncd@.service, run
// through systemd-socket-activate with the installed unit's exact ExecStart
// as its unprivileged user), for both ownership backends. Every client must
// finish and hold exactly the tree the archive describes. The figures are
// reported here; bench/classroom-load.ts measures a larger build for
// docs/performance.md.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Backend } from '@xs-rsync/core'
import { makeTreeTar } from '../packages/publisher/test/lib/make-archive.js'
import { archiveEntries } from './lib/archive-entries.js'
import { classroomLoad, handStoreTo, installedService, unitValue } from './lib/classroom-load.js'
import { dumpTree } from './lib/dump-tree.js'
import { addPackedBuild, testStore } from './lib/test-store.js'
import { compareTrees } from './lib/tree-entry.js'
import { xsRsync } from './lib/xs-cli.js'

const TEMPLATE = join(import.meta.dirname, '..', 'packages', 'xs-rsync', 'share', 'rsyncd.conf.in')
const CLIENTS = 40

t.test('the service unit runs rsync unprivileged with only the read and chroot capabilities', async (t) => {
  const dir = t.testdir({})
  const { text, argv } = installedService({ ...testStore(dir), rsyncdTemplate: TEMPLATE })
  t.equal(unitValue(text, 'User'), 'xs-rsync')
  t.equal(unitValue(text, 'AmbientCapabilities'), 'CAP_DAC_READ_SEARCH CAP_SYS_CHROOT')
  t.equal(unitValue(text, 'CapabilityBoundingSet'), 'CAP_DAC_READ_SEARCH CAP_SYS_CHROOT')
  t.equal(unitValue(text, 'ProtectSystem'), 'strict')
  t.equal(argv[0], '/usr/bin/rsync', 'rsync is exec\'d directly, no Node per connection')
})

for (const backend of ['fake-super', 'fakeroot'] as Backend[]) {
  t.test(`${CLIENTS} laptops at once, ${backend} backend`, async (t) => {
    const dir = t.testdir({})
    const config = { ...testStore(dir, backend), rsyncdTemplate: TEMPLATE }
    const { gnu } = makeTreeTar(dir, 'os')
    const packed = addPackedBuild(config, 'os44', '44', gnu, 'bzip2')
    handStoreTo(config)
    const r = xsRsync(config, ['refresh', '-q'])
    t.equal(r.status, 0, `refresh: ${r.stderr}`)
    t.match(readFileSync(config.rsyncdConf, 'utf8'), /^uid = 65534$/m, 'daemon runs as the store owner')
    t.match(readFileSync(config.rsyncdConf, 'utf8'), /^reverse lookup = no$/m, 'the shipped template is used')

    const load = await classroomLoad(config, 'build-44', join(dir, 'clients'), CLIENTS)
    const expected = await archiveEntries(packed.tarball)
    const contents = readFileSync(packed.contentsFile, 'utf8')
    t.equal(load.clients.length, CLIENTS)
    for (const [i, c] of load.clients.entries()) {
      t.equal(c.status, 0, `client ${i} finished: ${c.stderr}`)
      t.same(compareTrees(expected, dumpTree(join(c.dest, 'root'), c.state)), [], `client ${i} tree is exact`)
      t.equal(readFileSync(join(c.dest, 'contents'), 'utf8'), contents, `client ${i} contents file`)
    }
    const ms = load.clients.map((c) => c.ms).sort((a, b) => a - b)
    t.comment(`${backend}: ${CLIENTS} clients in ${load.wallMs} ms (each ${ms[0]}-${ms.at(-1)} ms), ` +
      `peak ${load.peakConnections} connections, ${Math.round(load.peakTotalKiB / 1024)} MiB total, ` +
      `${Math.round(load.peakConnectionKiB / 1024)} MiB per connection at most (${load.samples} samples)`)
  })
}
