import t from 'tap'
import { parseMountInfo, unescapeMountField } from '../src/mount-info.js'

t.test('unescapeMountField', async (t) => {
  const cases: Array<[string, string]> = [
    ['/plain', '/plain'],
    ['/with\\040space', '/with space'],
    ['/tab\\011nl\\012bs\\134', '/tab\tnl\nbs\\'],
    ['/not\\08escape', '/not\\08escape'],
  ]
  for (const [raw, want] of cases) t.equal(unescapeMountField(raw), want, raw)
})

t.test('parseMountInfo', async (t) => {
  const text = [
    '22 1 252:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
    '42 27 7:0 / /run/xs-rsync/loop0-a ro,nosuid,nodev,noexec,relatime - ext4 /dev/loop0 ro',
    '43 27 0:39 / /media/my\\040stick ro,nosuid - fuse.fusefat /dev/loop1 ro,user_id=0',
    '44 27 7:2 /sub /bind rw master:3 shared:4 - vfat /dev/loop2 rw',
    'garbage line',
    '',
  ].join('\n')
  const m = parseMountInfo(text)
  t.equal(m.length, 4)
  t.same(m[1], {
    devId: '7:0', root: '/', mountPoint: '/run/xs-rsync/loop0-a',
    options: ['ro', 'nosuid', 'nodev', 'noexec', 'relatime'], fsType: 'ext4', source: '/dev/loop0',
  })
  t.equal(m[2]?.mountPoint, '/media/my stick')
  t.equal(m[2]?.fsType, 'fuse.fusefat')
  t.equal(m[3]?.root, '/sub', 'optional fields before "-" are skipped')
  t.equal(m[3]?.fsType, 'vfat')
  t.equal(m[3]?.source, '/dev/loop2')
})
