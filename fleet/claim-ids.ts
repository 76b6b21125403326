/**
 * The ids in a run's claim (fleet/fleet-claim.ts), written short: a run of numbered ids (`n-00000`
 * to `n-14999`, what `fleetIds` makes; every Nth of them, a shard's: `n-00001`, `n-00003` …) as one
 * span `[first, last]` or `[first, last, step]`, the rest one by one.
 * Listed one by one, a 15,000-node fleet's claim was a 150 KB packet: over a broker's packet limit
 * (`twinfleet broker`'s is 64 KiB), which cut the claim's connection, and the run waited for ever.
 * Read back, a span is matched against the ids wanted, never expanded (a claim is someone else's data).
 */
import type { NodeId } from "../protocol/index.js";

/** A claim's payload: ids one by one, and spans `[first, last]` (or every `step`th) of numbered ids. */
export interface ClaimIds {
  readonly ids: readonly string[];
  readonly spans?: readonly (readonly [string, string] | readonly [string, string, number])[];
}

/** An id as a head and a fixed-width number (`n-00042`: `n-`, 42, 5 digits); none without digits. */
interface Numbered {
  readonly head: string;
  readonly n: number;
  readonly width: number;
}

function numbered(id: string): Numbered | undefined {
  const m = /^(.*?)(\d{1,15})$/.exec(id);
  if (m === null) return undefined;
  const digits = m[2] ?? "";
  return { head: m[1] ?? "", n: Number(digits), width: digits.length };
}

/** The shortest spans under which ids of a run follow one another; shorter runs stay one by one. */
const SPAN_AT_LEAST = 3;

/** `ids` as a claim's payload: runs of consecutive numbered ids as spans. */
export function encodeClaimIds(ids: readonly NodeId[]): ClaimIds {
  const single: string[] = [];
  const spans: ([string, string] | [string, string, number])[] = [];
  let i = 0;
  while (i < ids.length) {
    const first = ids[i] as string;
    const a = numbered(first);
    const second = numbered((ids[i + 1] as string | undefined) ?? "");
    const step = a && second && second.head === a.head && second.width === a.width ? second.n - a.n : 0;
    let j = i + 1;
    if (a !== undefined && step > 0) {
      for (; j < ids.length; j++) {
        const b = numbered(ids[j] as string);
        if (b === undefined || b.head !== a.head || b.width !== a.width || b.n !== a.n + (j - i) * step)
          break;
      }
    }
    if (j - i >= SPAN_AT_LEAST)
      spans.push(step === 1 ? [first, ids[j - 1] as string] : [first, ids[j - 1] as string, step]);
    else {
      single.push(first);
      j = i + 1;
    }
    i = j;
  }
  return spans.length > 0 ? { ids: single, spans } : { ids: single };
}

/** The ids of `wanted` a claim's payload holds; none of a payload not understood. */
export function claimedOf(payload: Buffer, wanted: readonly NodeId[]): NodeId[] {
  let v: { ids?: unknown; spans?: unknown };
  try {
    v = JSON.parse(payload.toString()) as { ids?: unknown; spans?: unknown };
  } catch {
    return [];
  }
  const single = new Set(Array.isArray(v.ids) ? v.ids.filter((x) => typeof x === "string") : []);
  const spans: [Numbered, Numbered, number][] = [];
  for (const s of Array.isArray(v.spans) ? v.spans : []) {
    if (!Array.isArray(s) || typeof s[0] !== "string" || typeof s[1] !== "string") continue;
    const a = numbered(s[0]);
    const b = numbered(s[1]);
    const step = s[2] === undefined ? 1 : s[2];
    if (typeof step !== "number" || !Number.isSafeInteger(step) || step < 1) continue;
    if (a && b && a.head === b.head && a.width === b.width && a.n <= b.n) spans.push([a, b, step]);
  }
  const inSpan = (id: string) => {
    const x = numbered(id);
    return (
      x !== undefined &&
      spans.some(
        ([a, b, step]) =>
          x.head === a.head && x.width === a.width && x.n >= a.n && x.n <= b.n && (x.n - a.n) % step === 0,
      )
    );
  };
  return wanted.filter((id) => single.has(id) || (spans.length > 0 && inSpan(id)));
}
