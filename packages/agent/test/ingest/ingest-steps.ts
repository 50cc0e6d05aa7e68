import t from 'tap'
import { INGEST_STEPS, ingestSteps } from '../../src/ingest/ingest-steps.js'
import { listNames } from '../../src/ingest/list-names.js'

t.test('ingestSteps: the numbered steps of an ingest and of --check', async (t) => {
  const cases: Array<[boolean, string[]]> = [
    [false, ['find', 'manifest', 'signature', 'files', 'compare', 'space', 'copy', 'publish']],
    [true, ['find', 'manifest', 'signature', 'files', 'compare', 'space', 'copy']],
  ]
  for (const [check, want] of cases) t.same(ingestSteps(check), want, `check=${check}`)
  t.ok(ingestSteps(false).every((s) => INGEST_STEPS[s].length > 0), 'every step has a title')
  t.equal(new Set(ingestSteps(false)).size, ingestSteps(false).length, 'no step twice')
})

t.test('listNames', async (t) => {
  const cases: Array<[string[], string]> = [[[], 'none'], [['44'], '44'], [['44', '45'], '44, 45']]
  for (const [names, want] of cases) t.equal(listNames(names), want, JSON.stringify(names))
})
