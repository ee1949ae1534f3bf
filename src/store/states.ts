/**
 * The states of a message for one recipient device, as the site stores, reports and counts
 * them. The API schemas, the OpenAPI documents, the metrics and the command take their
 * lists from here.
 */

/** Every state, in the order a report lists them; `queued` is the only one that is not final. */
export const DELIVERY_STATES = ['queued', 'delivered', 'expired', 'rejected', 'dropped', 'replaced'] as const

export type DeliveryState = typeof DELIVERY_STATES[number]

/** The final states: a message leaves a device's outbox in one of these, and an event says so. */
export const SETTLED_STATES = ['delivered', 'expired', 'rejected', 'dropped', 'replaced'] as const satisfies ReadonlyArray<Exclude<DeliveryState, 'queued'>>

export type SettledState = typeof SETTLED_STATES[number]

/**
 * A device's copy of a message as the site reports it: `pending` while a broadcast's fan-out has
 * not reached the device yet (nothing is sealed for it), then one of the delivery states.
 */
export const COPY_STATES = ['pending', ...DELIVERY_STATES] as const

export type CopyState = typeof COPY_STATES[number]
