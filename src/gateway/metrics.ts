// The gateway's Prometheus metrics: requests, latency histograms, tokens and errors by code.
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

function labels(values: Record<string, string>): string {
  const pairs = Object.entries(values).map(
    ([k, v]) => `${k}="${v.replace(/["\\\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`,
  )
  return pairs.length > 0 ? `{${pairs.join(',')}}` : ''
}

export class GatewayMetrics {
  readonly #requests = new Map<string, number>()
  readonly #errors = new Map<string, number>()
  readonly #tokens = new Map<string, number>()
  readonly #latency = new Map<string, { buckets: number[]; sum: number; count: number }>()

  #add(map: Map<string, number>, key: string, value = 1) {
    map.set(key, (map.get(key) ?? 0) + value)
  }

  /** A finished request: its route, status, and how long it took. */
  request(route: string, status: number, seconds: number) {
    this.#add(this.#requests, labels({ route, status: String(status) }))
    const key = labels({ route })
    let histogram = this.#latency.get(key)
    if (!histogram) this.#latency.set(key, (histogram = { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 }))
    BUCKETS.forEach((bound, i) => {
      if (seconds <= bound) histogram.buckets[i]!++
    })
    histogram.sum += seconds
    histogram.count++
  }

  /** A failed request's error code. */
  error(route: string, code: string) {
    this.#add(this.#errors, labels({ route, code }))
  }

  /** Tokens a provider reported. */
  tokens(model: string, kind: 'input' | 'output', count: number) {
    this.#add(this.#tokens, labels({ model, kind }), count)
  }

  /** The Prometheus text exposition. */
  render(): string {
    const lines: string[] = []
    const counter = (name: string, help: string, map: Map<string, number>) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`)
      for (const [key, value] of map) lines.push(`${name}${key} ${value}`)
    }
    counter('modelport_gateway_requests_total', 'Requests answered, by route and status.', this.#requests)
    counter('modelport_gateway_errors_total', 'Failed requests, by route and error code.', this.#errors)
    counter('modelport_gateway_tokens_total', 'Tokens providers reported, by model and kind.', this.#tokens)
    lines.push(
      '# HELP modelport_gateway_request_duration_seconds Time to answer a request (a stream: to its end).',
      '# TYPE modelport_gateway_request_duration_seconds histogram',
    )
    for (const [key, histogram] of this.#latency) {
      const route = key.slice(1, -1)
      BUCKETS.forEach((bound, i) =>
        lines.push(
          `modelport_gateway_request_duration_seconds_bucket{${route},le="${bound}"} ${histogram.buckets[i]}`,
        ),
      )
      lines.push(`modelport_gateway_request_duration_seconds_bucket{${route},le="+Inf"} ${histogram.count}`)
      lines.push(`modelport_gateway_request_duration_seconds_sum${key} ${histogram.sum}`)
      lines.push(`modelport_gateway_request_duration_seconds_count${key} ${histogram.count}`)
    }
    return `${lines.join('\n')}\n`
  }
}
