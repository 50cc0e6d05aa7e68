import t from 'tap'
import { checkSpace, describeNeed, freeBytes, spaceNeeded, UNPACK_RATIO } from '../src/space-check.js'

t.test('spaceNeeded / describeNeed', async (t) => {
  const MB = 1024 * 1024
  const need = spaceNeeded(310 * MB, 300 * MB, 512 * MB)
  t.same(need, { copy: 310 * MB, unpacked: 300 * MB * UNPACK_RATIO, reserve: 512 * MB, total: (310 + 900 + 512) * MB })
  t.equal(describeNeed(need), '1722 MB (copy 310 MB + unpacked trees about 900 MB + reserve 512 MB, the "reserve" setting)')
})

t.test('checkSpace against the real filesystem', async (t) => {
  const dir = t.testdir({})
  const free = await freeBytes(dir)
  t.ok(free > 0)
  t.ok((await checkSpace(dir, spaceNeeded(1, 1, 0))).free > 0)
  await t.rejects(checkSpace(dir, spaceNeeded(0, 0, free * 2)),
    { code: 'E_NO_SPACE', message: /needs \d+ MB \(copy 0 MB.*reserve \d+ MB, the "reserve" setting\) but has \d+ MB free/ })
})
