/** Latency figures of a series of measurements, in ms: the site's send → acknowledgement (node-host) and W5's send → inbox. */
export interface LatencySummary {
  p50: number
  p99: number
  p999: number
  max: number
  mean: number
}

function percentile (sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]
}

/** The percentiles, maximum and mean of `latencies` (sorted in place). */
export function summarizeLatencies (latencies: number[]): LatencySummary {
  const sorted = latencies.sort((a, b) => a - b)
  return {
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    p999: percentile(sorted, 0.999),
    max: sorted[sorted.length - 1],
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length
  }
}
