/** Build names for a log line: `a, b`, or `none`. Pure. */
export const listNames = (names: readonly string[]): string => names.length === 0 ? 'none' : names.join(', ')
