/**
 * What a view takes of a twins service's `GET /api/convergence/minutes` answer read over HTTP
 * (view/minutes-feed.ts): the bound its body is read to (view/bounded-body.ts reads it), and each
 * minute checked to be one a twins service sends (a number where a number goes, a share within 0-1,
 * counts that are counts, minutes in order, not after the answer's own time), so that a wrong answer
 * is named, not drawn as `NaN %`.
 */
import { MINUTES_KEPT, type MinutePoint } from "../twins/index.js";

/**
 * The most an answer may hold, bytes: 48 h of minutes are some 230 kB (twins/minute-tier.ts); a
 * larger answer is not a twins service's minutes.
 */
export const MINUTES_MAX_BYTES = 4 * 1024 * 1024;

/** The minutes of an answer, or what is wrong with it (in words that follow "answered …"). */
export type MinutesChecked =
  | { readonly ok: true; readonly t: number; readonly minutes: MinutePoint[] }
  | { readonly ok: false; readonly why: string };

const isCount = (v: unknown) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const shownValue = (v: unknown) => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
};

/** `{t, minutes: [{t, …}]}` as a twins service sends it, checked minute by minute. */
export function checkMinutes(text: string, contentType: string | null): MinutesChecked {
  let b: { t?: unknown; minutes?: unknown };
  try {
    b = JSON.parse(text) as typeof b;
  } catch {
    const type = contentType === null ? "no content type" : contentType.split(";")[0];
    return { ok: false, why: `something that is not JSON (${type}: ${shownValue(text.slice(0, 40))})` };
  }
  if (b === null || typeof b !== "object" || !Array.isArray(b.minutes))
    return { ok: false, why: "JSON without its minutes (no `minutes` list)" };
  if (typeof b.t !== "number" || !Number.isFinite(b.t) || b.t < 0)
    return { ok: false, why: `minutes read at no time (t ${shownValue(b.t)})` };
  const t = b.t;
  const list = b.minutes as unknown[];
  if (list.length > MINUTES_KEPT)
    return {
      ok: false,
      why: `${list.length} minutes, more than the ${MINUTES_KEPT} (48 h) a twins service keeps`,
    };
  let before = -1;
  for (const [i, m] of list.entries()) {
    const wrong = minuteWrong(m, before, t);
    if (wrong !== undefined) return { ok: false, why: `a minute that is not one: minute ${i + 1} ${wrong}` };
    before = (m as MinutePoint).t;
  }
  return { ok: true, t, minutes: list as MinutePoint[] };
}

/** What is wrong with one minute, or undefined. */
function minuteWrong(m: unknown, before: number, now: number): string | undefined {
  if (m === null || typeof m !== "object" || Array.isArray(m)) return `is ${shownValue(m)}`;
  const p = m as Record<string, unknown>;
  if (typeof p.t !== "number" || !Number.isFinite(p.t) || p.t < 0) return `has t ${shownValue(p.t)}`;
  if (p.t <= before) return `has t ${p.t}, not after the minute before it (${before})`;
  if (p.t > now) return `has t ${p.t}, after the answer's own time (${now})`;
  if (p.fraction !== undefined && (typeof p.fraction !== "number" || !(p.fraction >= 0 && p.fraction <= 1)))
    return `has fraction ${shownValue(p.fraction)}, not a share from 0 to 1`;
  for (const k of ["inSync", "known", "online"] as const)
    if (p[k] !== undefined && !isCount(p[k])) return `has ${k} ${shownValue(p[k])}, not a count`;
  if (typeof p.inSync === "number" && typeof p.known === "number" && p.inSync > p.known)
    return `has inSync ${p.inSync} of known ${p.known}`;
  for (const k of ["away", "down", "joining"] as const)
    if (p[k] !== undefined && p[k] !== true) return `has ${k} ${shownValue(p[k])}, not true`;
  return undefined;
}
