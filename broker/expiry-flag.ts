/**
 * `--session-expiry`: how long a persistent session may be away before the broker drops it
 * (broker/session-expiry.ts), as a whole number with a unit — `90m`, `12h`, `30d`, `2w` — or of
 * seconds; from a minute to ten years.
 */
import { z } from "zod";

const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const MIN_MS = 60_000;
const MAX_MS = 3650 * 86_400_000;
const WHAT =
  "a time from 1 minute to 3650 days: a whole number of seconds, or with a unit (90m, 12h, 30d, 2w)";

/** The time in ms, or what is wrong with it (the caller names the flag and the value). */
export function parseExpiry(text: string): number | string {
  const m = /^([0-9]{1,10})([smhdw]?)$/.exec(text);
  if (m === null) return `must be ${WHAT}`;
  const ms = Number(m[1]) * (UNIT_MS[m[2] || "s"] ?? 1000);
  if (ms < MIN_MS || ms > MAX_MS) return `must be ${WHAT}`;
  return ms;
}

/** The flag's schema: its string (or a number of seconds) → ms. */
export const expiryFlag = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const parsed = parseExpiry(String(v));
  if (typeof parsed === "number") return parsed;
  ctx.addIssue({ code: "custom", message: parsed });
  return z.NEVER;
});
