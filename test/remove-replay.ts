// A removed build stays removed: the signed stick it came from (or an older
// one) does not bring it back; a newer stick does; `remove --forget` lets the
// same stick publish it again. Real GnuPG keys, real stick folders, real store.
import t from 'tap'
import { join } from 'node:path'
import { ingest } from '@xs-rsync/agent'
import { listBuilds } from '@xs-rsync/publisher'
import { daysAgo, disposeKeys, logSink, makeKeys, sampleBuild, stickOf, testConfig, writeKeyring, type Keys } from '../packages/agent/test/lib/ingest-fixture.js'
import { xsRsync } from './lib/xs-cli.js'

let keys: Keys
t.before(() => { keys = makeKeys() })
t.teardown(() => disposeKeys(keys))

t.test('the stick a removed build came from does not bring it back; --forget lets it', async (t) => {
  const dir = t.testdir({ o: {}, n: {} })
  const config = testConfig(dir, writeKeyring(join(dir, 'keys'), keys))
  const s44 = stickOf(dir, [await sampleBuild(dir, '44')], { key: keys.rsa, at: daysAgo(5) })
  const older = stickOf(join(dir, 'o'), [await sampleBuild(join(dir, 'o'), '44', 'older')], { key: keys.rsa, at: daysAgo(9) })
  const newer = stickOf(join(dir, 'n'), [await sampleBuild(join(dir, 'n'), '44', 'newer')], { key: keys.rsa, at: daysAgo(1) })
  const names = async (): Promise<string[]> => (await listBuilds(config)).map((b) => b.name)

  t.same((await ingest({ config, source: s44 })).published, ['44'])
  let r = xsRsync(config, ['remove', '44'])
  t.equal(r.status, 0, r.stderr)
  t.same(await names(), [])

  const { log, text } = logSink()
  const again = await ingest({ config, source: s44, log })
  t.same(again.published, [], 'the same stick publishes nothing')
  t.match(text(), /Build 44 was removed from this server on \S+; this stick holds that same build and does not bring it back \("xs-rsync remove --forget 44" allows it\)/)
  t.same(await names(), [])
  await t.rejects(ingest({ config, source: older }), { code: 'E_DOWNGRADE' }, 'an older stick is refused as a downgrade')
  t.same(await names(), [])

  r = xsRsync(config, ['remove', '--forget', '44'])
  t.equal(r.status, 0, r.stderr)
  t.same((await ingest({ config, source: s44 })).published, ['44'], 'forgotten: the same stick publishes it again')
  t.equal(xsRsync(config, ['remove', '44']).status, 0)
  t.same((await ingest({ config, source: newer })).published, ['44'], 'a newer stick always may')
})
