// Development aid (not a test): boot the system test's guest, install a .deb,
// and leave it running for poking at by hand. Prints the ssh command.
//   npx tsx test/lib/vm/dev-guest.ts DEB [RUNDIR]
import { mkdtempSync } from 'node:fs'
import { basename } from 'node:path'
import { buildImage, Guest } from './guest.js'

const deb = process.argv[2]
if (deb === undefined) throw new Error('usage: dev-guest.ts DEB [RUNDIR]')
const cache = process.env.XS_VM_CACHE ?? '/var/tmp/xs-rsync-vm-cache'
await buildImage(cache, console.error)
const g = new Guest({ cache, dir: process.argv[3] ?? mkdtempSync('/tmp/xsvm-') })
await g.boot()
g.copyIn(deb, `/root/${basename(deb)}`)
g.must(`DEBIAN_FRONTEND=noninteractive apt-get install -y /root/${basename(deb)} 2>&1`, { timeoutMs: 600_000 })
console.log(`guest up (boot ${g.bootSeconds[0]} s): ssh -F ${g.dir}/ssh_config guest; QMP ${g.qmpSocket}; rsync port ${g.rsyncPort}`)
process.exit(0)
