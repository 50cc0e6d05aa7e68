import t from 'tap'
import { diffDevices } from '../src/diff-devices.js'

t.test('diffDevices', async (t) => {
  const cases: Array<[string, string[], string[], { added: string[], removed: string[] }]> = [
    ['nothing', [], [], { added: [], removed: [] }],
    ['plugged in', ['/dev/sda1'], ['/dev/sda1', '/dev/sdb1'], { added: ['/dev/sdb1'], removed: [] }],
    ['pulled out', ['/dev/sda1', '/dev/sdb1'], ['/dev/sda1'], { added: [], removed: ['/dev/sdb1'] }],
    ['swapped', ['/dev/sdb1'], ['/dev/sdc1', '/dev/sdc2'], { added: ['/dev/sdc1', '/dev/sdc2'], removed: ['/dev/sdb1'] }],
    ['same', ['/dev/sdb1', '/dev/sdb2'], ['/dev/sdb2', '/dev/sdb1'], { added: [], removed: [] }],
    ['duplicates', [], ['/dev/sdb1', '/dev/sdb1'], { added: ['/dev/sdb1'], removed: [] }],
  ]
  for (const [name, before, now, want] of cases) t.same(diffDevices(before, now), want, name)
})
