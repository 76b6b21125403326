/**
 * A moment of a run in its summary's words. A report's times count from the start of the presses,
 * negative in the boot before them (docs/metrics.md); the summary said `broker lost at -29.5 s`, a
 * time that reads as nonsense, for a broker that died in the boot; the twins services' lines said
 * `twins left … at -3.2 s` and `twins beside … from -4.1 s to -1.0 s` alike. Hours past the first are
 * the caller's to add (cli/duration-text.ts).
 */

/** `at 12.3 s`, or in the boot `in the boot, 29.5 s before the presses' start`. */
export function atText(ms: number): string {
  return ms < 0
    ? `in the boot, ${(-ms / 1000).toFixed(1)} s before the presses' start`
    : `at ${(ms / 1000).toFixed(1)} s`;
}

/**
 * A time after `from`, `to` or `until`: `12.3 s`, or in the boot `29.5 s before the presses' start
 * (in the boot)`.
 */
export function timeText(ms: number): string {
  return ms < 0
    ? `${(-ms / 1000).toFixed(1)} s before the presses' start (in the boot)`
    : `${(ms / 1000).toFixed(1)} s`;
}
