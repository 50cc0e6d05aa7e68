/**
 * Characters a terminal, syslog or journald would act on rather than show:
 * C0 controls but tab and newline, DEL, C1 controls (0x9b is CSI on some
 * terminals), the Unicode line/paragraph separators and the bidirectional
 * overrides and isolates (which reorder what a reader sees).
 */
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/**
 * Show every control character of `text` as a `\uXXXX` escape, so that text
 * from a stick (a file name, a build name, a manifest line, a key's user ID)
 * cannot move the cursor, erase a line or start one of its own. Newlines are
 * kept: the sinks indent continuation lines. The escape is also valid inside
 * a JSON string. Pure.
 */
export const escapeControl = (text: string): string =>
  text.replace(CONTROL_RE, (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`)
