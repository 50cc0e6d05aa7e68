import { SERVICE_USER, type PlannedStep, type SetupStep } from './setup-plan.js'

const octal = (m: number): string => m.toString(8).padStart(4, '0')

const owner = (o: 'service' | 'root'): string => (o === 'service' ? SERVICE_USER : 'root')

/** One step in words. Pure. */
export const describeStep = (s: SetupStep, prefix: string): string => {
  const at = (p: string): string => prefix + p
  switch (s.kind) {
    case 'user': return `create system user ${s.name} (home ${s.home}, no login)`
    case 'dir': return `folder ${at(s.path)} (${octal(s.mode)}, ${owner(s.owner)})`
    case 'file': return `${s.keep ? 'install once' : 'install'} ${at(s.path)} (${s.why}, ${octal(s.mode)}, ${owner(s.owner)})`
    case 'remove': return `remove ${at(s.path)} (${s.why})`
    case 'enable': return `enable ${s.units.join(', ')}${s.now ? ' and start them' : prefix === '' ? '' : ` (systemctl --root=${prefix})`}`
    case 'daemon-reload': return 'reload systemd (systemctl daemon-reload)'
    case 'udev-reload': return 'reload udev rules (udevadm control --reload)'
    case 'rsyncd-conf': return `generate the rsync config ${at(s.path)}`
  }
}

const MARK = { do: 'do  ', ok: 'ok  ', skip: 'skip' } as const

/** The plan as `--dry-run` prints it: one line per step, "do", "ok" or "skip" first. Pure. */
export const renderPlan = (plan: readonly PlannedStep[], prefix: string): string =>
  plan.map((p) => `${MARK[p.status]}  ${describeStep(p.step, prefix)}${p.note === undefined ? '' : ` - ${p.note}`}`).join('\n') + '\n'
