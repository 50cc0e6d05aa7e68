import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DEFAULT_CONFIG, type XsConfig } from '@xs-rsync/core'
import { withStoreLock } from '../src/store-lock.js'

t.test('a locked run removes what killed jobs left: atomic-write temps beside the config and the records', async (t) => {
  const dir = t.testdir({})
  const config: XsConfig = { ...DEFAULT_CONFIG, root: join(dir, 'store'), rsyncdConf: join(dir, 'etc', 'xs-rsyncd.conf'), rsyncdTemplate: join(dir, 'none') }
  const dead = spawnSync('true').pid ?? 999999
  mkdirSync(join(dir, 'etc'))
  mkdirSync(join(config.root, 'state', 'builds'), { recursive: true })
  const confTemp = join(dir, 'etc', `.xs-rsyncd.conf.tmp-${dead}-0a1b2c3d`)
  const otherTemp = join(dir, 'etc', `.passwd.tmp-${dead}-0a1b2c3d`)
  const recordTemp = join(config.root, 'state', 'builds', `.44.json.tmp-${dead}-0a1b2c3d`)
  for (const f of [confTemp, otherTemp, recordTemp]) writeFileSync(f, 'half')
  const lines: string[] = []
  await withStoreLock(config, { wait: false, log: (_l, m) => lines.push(m) }, async () => {})
  t.notOk(existsSync(confTemp), 'config temp removed')
  t.notOk(existsSync(recordTemp), 'record temp removed')
  t.ok(existsSync(otherTemp), 'another file\'s temp in /etc is not ours to remove')
  t.match(lines.join('\n'), /left by a killed job/)
})
