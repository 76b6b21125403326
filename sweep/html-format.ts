/**
 * Formatting shared by the sweep's HTML page and its sections: HTML escaping and durations in ms or s.
 */

export function esc(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}

export const f1 = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/** A duration given in ms: `12.5 ms`, `1.4 s`, `31 s`. */
export const fmtMs = (v: number) =>
  v >= 1000 ? `${(v / 1000).toFixed(v >= 10_000 ? 0 : 1)} s` : `${f1(v)} ms`;
