import t from 'tap'
import { describeInterrupted, interruptedError } from '../src/interrupted-error.js'

t.test('describeInterrupted: what was published before the signal, what was not', async (t) => {
  const cases: Array<[string, string[], string[], string]> = [
    ['nothing to do yet', [], [], 'nothing was published; the builds served before are still served (received SIGTERM)'],
    ['publish: its one build', [], ['os883'], 'build os883 not published; the builds served before are still served (received SIGTERM)'],
    ['refresh: some done', ['os882'], ['os883', '13.2.10-xo4'], 'published build os882 before that; builds os883, 13.2.10-xo4 not published; the builds served before are still served (received SIGTERM)'],
    ['refresh: all done', ['a', 'b'], [], 'published builds a, b before that; the builds served before are still served (received SIGTERM)'],
  ]
  for (const [name, published, notPublished, want] of cases) t.equal(describeInterrupted(published, notPublished, 'received SIGTERM'), want, name)
})

t.test('interruptedError: E_INTERRUPTED with the signal\'s reason', async (t) => {
  const ac = new AbortController()
  ac.abort(new Error('received SIGINT'))
  const cause = new Error('killed')
  t.match(interruptedError(ac.signal, [], ['x'], cause), { code: 'E_INTERRUPTED', message: 'build x not published; the builds served before are still served (received SIGINT)', cause })
})
