import t, { type Test } from 'tap'
import type { FixtureDirContent } from '@tapjs/fixture'
import { join } from 'node:path'
import { devicesOfDrive, loadDriveLister, selectStickDrives, sysfsLister, type DriveInfo } from '../src/removable-drives.js'

const drive = (device: string, o: Partial<DriveInfo>): DriveInfo =>
  ({ device, isUSB: null, isRemovable: false, isVirtual: false, isSystem: false, ...o })

t.test('selectStickDrives', async (t) => {
  const drives = [
    drive('/dev/vda', { isSystem: true }),
    drive('/dev/zram0', { isRemovable: true, isVirtual: true }),
    drive('/dev/sdb', { isUSB: true }),
    drive('/dev/sdc', { isRemovable: true }),
    drive('/dev/sdd', { isUSB: true, isSystem: true }),
    drive('/dev/nvme0n1', {}),
  ]
  t.same(selectStickDrives(drives), ['/dev/sdb', '/dev/sdc'])
})

// A fake /sys/class/block: entries are symlinks into a fake /sys/devices tree, as in the real one.
const fakeSys = (t: Test): string => {
  const dev = (extra: Record<string, FixtureDirContent> = {}): FixtureDirContent => ({ removable: '0\n', ...extra })
  const dir = t.testdir({
    devices: {
      pci: {
        usb1: { '1-1': { block: { sdb: dev({ sdb1: { partition: '1' }, sdb2: { partition: '2' } }), sdc: dev() } } },
        ata1: { block: { sda: dev({ sda1: { partition: '1' } }) } },
        mmc: { block: { mmcblk0: dev({ removable: '1\n' }) } },
      },
      virtual: { block: { loop0: dev({ removable: '1\n' }) } },
    },
    block: {
      sdb: t.fixture('symlink', '../devices/pci/usb1/1-1/block/sdb'),
      sdb1: t.fixture('symlink', '../devices/pci/usb1/1-1/block/sdb/sdb1'),
      sdb2: t.fixture('symlink', '../devices/pci/usb1/1-1/block/sdb/sdb2'),
      sdc: t.fixture('symlink', '../devices/pci/usb1/1-1/block/sdc'),
      sda: t.fixture('symlink', '../devices/pci/ata1/block/sda'),
      sda1: t.fixture('symlink', '../devices/pci/ata1/block/sda/sda1'),
      mmcblk0: t.fixture('symlink', '../devices/pci/mmc/block/mmcblk0'),
      loop0: t.fixture('symlink', '../devices/virtual/block/loop0'),
    },
  })
  return join(dir, 'block')
}

t.test('devicesOfDrive: partitions, or the drive itself', async (t) => {
  const sys = fakeSys(t)
  t.same(await devicesOfDrive('/dev/sdb', sys), ['/dev/sdb1', '/dev/sdb2'])
  t.same(await devicesOfDrive('/dev/sdc', sys), ['/dev/sdc'], 'no partition table')
  t.same(await devicesOfDrive('/dev/gone', sys), ['/dev/gone'])
})

t.test('sysfsLister: USB and removable disks, not virtual or internal ones', async (t) => {
  const l = sysfsLister(fakeSys(t))
  t.equal(l.name, 'sysfs')
  t.same(await l.list(), ['/dev/mmcblk0', '/dev/sdb1', '/dev/sdb2', '/dev/sdc'])
})

t.test('the real listers run on this machine', async (t) => {
  const { lister, why } = await loadDriveLister()
  t.comment(`lister: ${lister.name}${why === undefined ? '' : ` (${why})`}`)
  const found = await lister.list()
  t.ok(Array.isArray(found))
  t.notOk(found.some((d) => /\/dev\/(loop|zram)/.test(d)), 'no virtual devices')
  t.ok(Array.isArray(await sysfsLister().list()))
})
