/**
 * Spans in seconds made readable past an hour, for the sim's summary and progress lines: the
 * seconds stay first (what scripts read, and what the report holds), the hours and minutes follow.
 */

const HOUR_S = 3600;

/** ` (23 h 0 min)` for a span of an hour or more; nothing below. */
export function hoursOf(s: number): string {
  if (!(s >= HOUR_S)) return "";
  const whole = Math.floor(s);
  return ` (${Math.floor(whole / HOUR_S)} h ${Math.floor((whole % HOUR_S) / 60)} min)`;
}

/**
 * The same in a fixed width for lines read down a column (` ( 3 h  0 min)`, up to 99 h), so a
 * run's lines past its first hour line up; nothing below an hour, as `hoursOf`.
 */
export function hoursColumn(s: number): string {
  if (!(s >= HOUR_S)) return "";
  const whole = Math.floor(s);
  const h = String(Math.floor(whole / HOUR_S)).padStart(2);
  const min = String(Math.floor((whole % HOUR_S) / 60)).padStart(2);
  return ` (${h} h ${min} min)`;
}
