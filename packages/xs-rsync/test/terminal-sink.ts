import t from 'tap'
import { terminalSink } from '../src/terminal-sink.js'

t.test('levels, quiet, and no forged lines', async (t) => {
  const cases: [Parameters<typeof terminalSink>[1], Parameters<ReturnType<typeof terminalSink>>, string][] = [
    [{}, ['notice', 'DONE: 44'], 'xs-rsync: DONE: 44\n'],
    [{}, ['err', 'FAILED: x'], 'xs-rsync: error: FAILED: x\n'],
    [{}, ['debug', 'hidden'], ''],
    [{ debug: true }, ['debug', 'shown'], 'xs-rsync: debug: shown\n'],
    [{ quiet: true }, ['info', 'progress'], ''],
    [{ quiet: true }, ['warning', 'w'], 'xs-rsync: warning: w\n'],
    [{}, ['info', 'Ignoring x\nxs-rsync: DONE: evil'], 'xs-rsync: Ignoring x\n    xs-rsync: DONE: evil\n'],
    [{}, ['info', 'Ignoring x\rxs-rsync: DONE: evil'], 'xs-rsync: Ignoring x\\u000dxs-rsync: DONE: evil\n'],
    [{}, ['info', 'Ignoring x\u001b[1A\u001b[2K'], 'xs-rsync: Ignoring x\\u001b[1A\\u001b[2K\n'],
    [{}, ['warning', 'key user id NOC\u009b2K\u202e'], 'xs-rsync: warning: key user id NOC\\u009b2K\\u202e\n'],
  ]
  for (const [opts, [level, msg], want] of cases) {
    let got = ''
    terminalSink((s) => { got += s }, opts)(level, msg)
    t.equal(got, want, JSON.stringify([opts, level, msg]))
  }
})
