/**
 * A flag that takes a span of hours to weeks (`twins --forget-after 30d`): a whole number and its
 * unit, `h`, `d` or `w`. Minutes are not taken: `30m` reads as months as easily as minutes, and no
 * span this guards is counted in minutes. Below `minMs`, or anything else, is a usage error naming
 * the flag.
 */
import { shown } from "../protocol/shown.js";
import { UsageError } from "./errors.js";

const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, d: 86_400_000, w: 604_800_000 };
/** The longest span taken: ten years (the scheduler's times stay exact integers far beyond). */
const MAX_MS = 3650 * 86_400_000;

/** `raw` (`12h`, `30d`, `2w`) in ms, at least `minMs` (`minText` says it); else a usage error. */
export function spanFlag(flag: string, raw: string, minMs: number, minText: string): number {
  const m = /^([0-9]{1,7})([hdw])$/.exec(raw);
  const ms = m ? Number(m[1]) * (UNIT_MS[m[2] as string] as number) : Number.NaN;
  if (!(ms >= minMs && ms <= MAX_MS))
    throw new UsageError(
      `${flag} must be a span of at least ${minText} and at most 3650d, a whole number of hours, days or weeks such as 12h, 30d or 2w, not ${shown(raw)}`,
    );
  return ms;
}
