/**
 * Urgency of a site's message (the Web Push levels): a device's outbox sends higher
 * urgencies first. The API schemas and the command's help take the list from here.
 */

/** From the least to the most urgent. */
export const URGENCIES = ['very-low', 'low', 'normal', 'high'] as const

export type Urgency = typeof URGENCIES[number]

export const DEFAULT_URGENCY: Urgency = 'normal'

/** Outbox keys sort by this rank first, so that higher urgency goes first: `high` is 0. */
export const URGENCY_RANK: Readonly<Record<Urgency, number>> = Object.fromEntries(
  URGENCIES.map((u, i) => [u, URGENCIES.length - 1 - i])
) as Record<Urgency, number>

export function isUrgency (value: unknown): value is Urgency {
  return typeof value === 'string' && (URGENCIES as readonly string[]).includes(value)
}
