import t from 'tap'
import { noSuchBuildMessage } from '../src/no-such-build.js'

t.test('noSuchBuildMessage: the name asked for, then what is published', async (t) => {
  const cases: Array<[string, string, string[], string | undefined, string]> = [
    ['none published', 'nope', [], undefined, 'there is no published build nope; no builds are published'],
    ['one', 'nope', ['os883'], undefined, 'there is no published build nope; the published builds are os883'],
    ['several', '13.2.1', ['13.2.10-xo4', 'os883'], undefined, 'there is no published build 13.2.1; the published builds are 13.2.10-xo4, os883'],
    ['remove --forget', 'b1', ['b2'], ' and nothing kept of a removed one', 'there is no published build b1 and nothing kept of a removed one; the published builds are b2'],
  ]
  for (const [name, build, published, more, want] of cases) t.equal(noSuchBuildMessage(build, published, more), want, name)
})
