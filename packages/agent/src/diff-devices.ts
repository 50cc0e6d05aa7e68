/** What changed between two looks at the plugged-in devices. */
export interface DeviceDiff {
  added: string[]
  removed: string[]
}

/** Devices in `now` that were not in `before`, and the other way round. Pure. */
export const diffDevices = (before: Iterable<string>, now: Iterable<string>): DeviceDiff => {
  const b = new Set(before)
  const n = new Set(now)
  return {
    added: [...n].filter((d) => !b.has(d)).sort(),
    removed: [...b].filter((d) => !n.has(d)).sort(),
  }
}
