/**
 * The words of the convergence history's long tier (the twins service's minutes, twins/minute-tier.ts):
 * a minute's time, and the line that answers "was the fleet in sync last night?" — the lowest share
 * and when, and how many minutes the broker was away or the service not running. The console's
 * `last 48 h` chart says it with these; the page's (web/public/minutes-chart.js, plain browser code
 * that cannot import this module) says the same, which web/test/minutes-words.test.ts holds it to.
 */
import type { MinutePoint } from "../twins/index.js";

/** A share as the page writes it: `13.7 %`. */
export const sharePct = (fraction: number): string => `${(fraction * 100).toFixed(1)} %`;

/** A time on the history's clock: a date's UTC hour and minute, or hours since the start (virtual time). */
export function minuteClock(t: number): string {
  if (t > 1e12) return `${new Date(t).toISOString().slice(11, 16)} UTC`;
  const m = Math.floor(t / 60_000);
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")}`;
}

/**
 * The summary's parts, each in its forms from longest to shortest: the lowest share and when, nodes
 * joining left out (or `nothing judged yet`, `…: nodes joining` where they were), the minutes the broker was away, the minutes the service was not running.
 * A box too narrow for a part's first form takes a shorter one (`lowest 13.7 % at 04:56`, `low 13.7
 * % at 04:56`, `lowest 13.7 %`, `low 13.7 %`; `away 2 min`; `down 1 min`) rather than cutting it;
 * narrower still, `summaryTiny` says them all in one short line.
 */
/**
 * The minute of the lowest share, leaving out those in which nodes were joining (MinutePoint.joining:
 * a share that says how far registration had got), and whether a joining minute was all there was.
 */
export function lowestMinute(minutes: readonly MinutePoint[]): {
  low: MinutePoint | undefined;
  joiningOnly: boolean;
} {
  let low: MinutePoint | undefined;
  let joining = false;
  for (const m of minutes) {
    if (m.fraction === undefined) continue;
    if (m.joining) joining = true;
    else if (low?.fraction === undefined || m.fraction < low.fraction) low = m;
  }
  return { low, joiningOnly: low === undefined && joining };
}

export function summaryParts(minutes: readonly MinutePoint[]): string[][] {
  const { low, joiningOnly } = lowestMinute(minutes);
  let away = 0;
  let down = 0;
  for (const m of minutes) {
    if (m.away) away++;
    if (m.down) down++;
  }
  const parts: string[][] = [];
  if (low?.fraction === undefined)
    parts.push(
      joiningOnly
        ? ["nothing judged yet: nodes joining", "nodes joining", "joining"]
        : ["nothing judged yet", "none judged"],
    );
  else {
    const share = sharePct(low.fraction);
    const when = minuteClock(low.t);
    const hhmm = when.replace(/ UTC$/, "");
    parts.push([
      `lowest ${share} (${low.inSync} of ${low.known}) at ${when}`,
      `lowest ${share} at ${hhmm}`,
      `low ${share} at ${hhmm}`,
      `lowest ${share}`,
      `low ${share}`,
    ]);
  }
  if (away > 0) parts.push([`broker away in ${away} min`, `away ${away} min`]);
  if (down > 0) parts.push([`twins service not running in ${down} min`, `down ${down} min`]);
  return parts;
}

/**
 * The summary in one short line for a box too narrow for its parts side by side, longest first: the
 * lowest share and the minutes the broker was away or the service not running, counted together as
 * the bands' shortest legend says them (`outage`), e.g. `low 13.7 %; out 3 min`, `13.7 %; out 3m`.
 * Empty where no minute was away or down (the share alone is then the whole answer).
 */
export function summaryTiny(minutes: readonly MinutePoint[]): string[] {
  const { low } = lowestMinute(minutes);
  let out = 0;
  for (const m of minutes) if (m.away || m.down) out++;
  if (out === 0) return [];
  const share = low?.fraction === undefined ? undefined : sharePct(low.fraction);
  const first = share === undefined ? ["none judged", "none judged"] : [`low ${share}`, share];
  return [
    `${first[0]}; outage ${out} min`,
    `${first[0]}; out ${out} min`,
    `${first[1]}; out ${out} min`,
    `${first[1]}; out ${out}m`,
  ];
}

/**
 * The lowest share and when, and the minutes away or down, e.g. `lowest 13.7 % (10 of 73) at 04:56
 * UTC; broker away in 2 min; twins service not running in 1 min`; `nothing judged yet` before a share.
 */
export function minutesSummary(minutes: readonly MinutePoint[]): string {
  return summaryParts(minutes)
    .map((forms) => forms[0])
    .join("; ");
}

/** A span of time as the chart's axis says it: hours from 2 h, minutes below. */
export const spanWords = (ms: number): string =>
  ms >= 2 * 3_600_000 ? `${Math.round(ms / 3_600_000)} h` : `${Math.round(ms / 60_000)} min`;
