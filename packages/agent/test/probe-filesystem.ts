import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseBlkidExport, probeFilesystem } from '../src/probe-filesystem.js'
import { attachLoop, makeExt4Image, makeFatImage } from '../../../test/lib/stick-image.js'

t.test('parseBlkidExport', async (t) => {
  const cases: Array<[string, string, object]> = [
    ['ext4 with label', 'DEVNAME=/dev/loop0\nLABEL=XSTEST\nUUID=c7\nTYPE=ext4\nUSAGE=filesystem\n',
      { type: 'ext4', label: 'XSTEST', usage: 'filesystem' }],
    ['escaped label', 'LABEL=MY\\ STICK\nTYPE=vfat\nSEC_TYPE=msdos\nUSAGE=filesystem\n',
      { type: 'vfat', label: 'MY STICK', usage: 'filesystem' }],
    ['whole disk', 'DEVNAME=/dev/sdb\nPTUUID=1234\nPTTYPE=dos\n', { ptType: 'dos' }],
    ['nothing', '', {}],
    ['empty value ignored', 'LABEL=\nTYPE=swap\nUSAGE=other\n', { type: 'swap', usage: 'other' }],
  ]
  for (const [name, text, want] of cases) t.same(parseBlkidExport(text), want, name)
})

t.test('probeFilesystem on real devices', async (t) => {
  const dir = t.testdir({})
  const ext = attachLoop(t, makeExt4Image(join(dir, 'e.img'), { 'a': 'x' }, { label: 'EXTSTICK' }))
  t.match(await probeFilesystem(ext), { type: 'ext4', label: 'EXTSTICK', usage: 'filesystem' })
  const fat = attachLoop(t, makeFatImage(join(dir, 'f.img'), { 'a': 'x' }, { label: 'FATSTICK' }))
  t.match(await probeFilesystem(fat), { type: 'vfat', label: 'FATSTICK', usage: 'filesystem' })
  const blank = attachLoop(t, makeFatImage(join(dir, 'z.img'), {}))
  writeFileSync(blank, Buffer.alloc(64 * 1024)) // wipe the boot sector: no filesystem left
  t.same(await probeFilesystem(blank), {})
})
