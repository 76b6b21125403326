/**
 * A moment of a run in its summary's words. A report's times count from the start of the presses,
 * negative in the boot before them (docs/metrics.md); the summary said `broker lost at -29.5 s`, a
 * time that reads as nonsense, for a broker that died in the boot. Hours past the first are the
 * caller's to add (cli/duration-text.ts).
 */

/** `at 12.3 s`, or in the boot `in the boot, 29.5 s before the presses' start`. */
export function atText(ms: number): string {
  return ms < 0
    ? `in the boot, ${(-ms / 1000).toFixed(1)} s before the presses' start`
    : `at ${(ms / 1000).toFixed(1)} s`;
}
