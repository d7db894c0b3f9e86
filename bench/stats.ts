// Small statistics shared by the benchmarks.

/** Median of `xs` (mean of the middle two for an even count; NaN when empty). */
export function median(xs: number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length === 0 ? NaN : a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
}
