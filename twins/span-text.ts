/**
 * A span of time as the twins service's lines say it: `30 d 2 h`, `5 h 3 min`, `4 min 10 s`, `42 s`
 * (the two largest units, whole).
 */

const UNITS: readonly [number, string][] = [
  [86_400_000, "d"],
  [3_600_000, "h"],
  [60_000, "min"],
  [1000, "s"],
];

export function spanText(ms: number): string {
  const whole = Math.max(0, Math.floor(ms / 1000)) * 1000;
  const i = UNITS.findIndex(([unit]) => whole >= unit);
  if (i === -1) return "0 s";
  const [big, bigName] = UNITS[i] as [number, string];
  const head = `${Math.floor(whole / big)} ${bigName}`;
  const next = UNITS[i + 1];
  if (next === undefined) return head;
  const rest = Math.floor((whole % big) / next[0]);
  return rest > 0 ? `${head} ${rest} ${next[1]}` : head;
}
