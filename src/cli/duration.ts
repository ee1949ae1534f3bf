import { usageError } from './errors.js'

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** Parses a duration like 500ms, 30s, 15m, 2h or 7d (a bare number is seconds) into milliseconds. */
export function parseDuration (text: string): number {
  const match = /^\s*(\d+)\s*(ms|s|m|h|d)?\s*$/.exec(text)
  if (match === null) throw usageError(`${JSON.stringify(text)} is not a duration: use e.g. 30s, 15m, 2h or 7d`)
  const ms = Number(match[1]) * UNITS[match[2] ?? 's']
  if (!Number.isSafeInteger(ms) || ms <= 0) throw usageError(`${JSON.stringify(text)} is not a positive duration`)
  return ms
}

/** Whole seconds, rounded up: the HTTP API takes seconds. */
export function toSeconds (ms: number): number {
  return Math.ceil(ms / 1000)
}

/** A short human form of a span of milliseconds: 850 ms, 12.3 s, 4 min, 2 h, 3 d. */
export function formatSpan (ms: number): string {
  const abs = Math.abs(ms)
  if (abs < 1_000) return `${Math.round(ms)} ms`
  if (abs < 60_000) return `${(ms / 1_000).toFixed(1)} s`
  if (abs < 3_600_000) return `${Math.round(ms / 60_000)} min`
  if (abs < 86_400_000) return `${Math.round(ms / 3_600_000)} h`
  return `${Math.round(ms / 86_400_000)} d`
}
