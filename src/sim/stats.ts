/**
 * Small statistics for simulation reports: nearest-rank percentiles (the definition latency reports
 * use: the p-th percentile is a value that was actually observed, never an interpolation) and a summary.
 */
import { InvalidOptionError } from '../errors.js'

/**
 * The `p`-th percentile (0 <= p <= 100) of `values` by the nearest-rank method: the smallest value such
 * that at least p% of the values are <= it. `p = 0` gives the minimum, `p = 100` the maximum. NaN for an
 * empty list. Does not modify `values`.
 */
export function percentile (values: ArrayLike<number>, p: number): number {
  if (typeof p !== 'number' || !(p >= 0 && p <= 100)) {
    throw new InvalidOptionError(`percentile: p must be between 0 and 100 (e.g. 99 for p99), got ${String(p)}`)
  }
  const n = values.length
  if (n === 0) return NaN
  const sorted = Float64Array.from(values).sort()
  return sorted[rankIndex(n, p)]
}

function rankIndex (n: number, p: number): number {
  return Math.max(0, Math.ceil((p / 100) * n) - 1)
}

export interface Summary {
  count: number
  min: number
  mean: number
  p50: number
  p90: number
  p99: number
  max: number
}

/** Count, min, mean, p50, p90, p99 and max of `values` (NaN fields when empty). */
export function summarize (values: ArrayLike<number>): Summary {
  const n = values.length
  if (n === 0) return { count: 0, min: NaN, mean: NaN, p50: NaN, p90: NaN, p99: NaN, max: NaN }
  const sorted = Float64Array.from(values).sort()
  let sum = 0
  for (let i = 0; i < n; i++) sum += sorted[i]
  return {
    count: n,
    min: sorted[0],
    mean: sum / n,
    p50: sorted[rankIndex(n, 50)],
    p90: sorted[rankIndex(n, 90)],
    p99: sorted[rankIndex(n, 99)],
    max: sorted[n - 1]
  }
}
