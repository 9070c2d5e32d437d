// Statistics of interleaved runs: these machines are noisy, so every figure is a median over
// rounds, and every ratio is the median of the per-round ratios of two contenders measured back to
// back in the same round.

export function median(values) {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/** The p-th percentile (0–100) of `values`, nearest rank. */
export function percentile(values, p) {
  if (values.length === 0) return NaN
  const sorted = Float64Array.from(values).sort()
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
}

/**
 * Runs every contender's `measure()` once per round, in an order that rotates each round (so no
 * contender always runs first, warm or cold), and returns each contender's per-round results.
 * `measure` resolves to an object of numbers (µs per call, calls per second, …).
 */
export async function interleave(contenders, rounds) {
  const results = Object.fromEntries(contenders.map(({ name }) => [name, []]))
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < contenders.length; i++) {
      const { name, measure } = contenders[(round + i) % contenders.length]
      results[name].push(await measure())
    }
  }
  return results
}

/** The median of `field` over one contender's rounds. */
export function medianOf(rounds, field) {
  return median(rounds.map((round) => round[field]))
}

/** The median over rounds of `a[field] / b[field]` (both measured in the same round). */
export function ratioOf(a, b, field) {
  return median(a.map((round, i) => round[field] / b[i][field]))
}

/** Nanoseconds since an arbitrary point, as a number. */
export function now() {
  return Number(process.hrtime.bigint())
}

/** Awaits `f()` `count` times in a row; returns the mean µs per call. */
export async function timeCalls(count, f) {
  const started = now()
  for (let i = 0; i < count; i++) await f(i)
  return (now() - started) / count / 1000
}

/** Calls `f()` `count` times in a row (no await); returns the mean µs per call. */
export function timeCallsSync(count, f) {
  const started = now()
  for (let i = 0; i < count; i++) f(i)
  return (now() - started) / count / 1000
}
