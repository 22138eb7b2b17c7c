/** Latency figures of a set of samples (ms); nearest-rank percentiles. */
export interface Percentiles {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function percentiles(samples: number[]): Percentiles | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  return { n: sorted.length, p50: at(50), p95: at(95), p99: at(99), max: sorted[sorted.length - 1] };
}

export const ms = (x: number) => (x < 1 ? `${x.toFixed(2)} ms` : `${x.toFixed(1)} ms`);

/** "p50 … p95 … p99 … max …", or a dash when there were no samples. */
export function formatPercentiles(p: Percentiles | null): string {
  return p ? `p50 ${ms(p.p50)}   p95 ${ms(p.p95)}   p99 ${ms(p.p99)}   max ${ms(p.max)}` : '—';
}

/** "a 12, b 3" from the values' counts, most frequent first. */
export function tally(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([v, n]) => `${v} ${n}`).join(', ');
}
