/**
 * The help screen, drawn from the key table (console/keys.ts): every key, and which actions this
 * fleet does not offer. A line wider than the box wraps, its further rows under the description
 * (the end of a long one, `(not for this fleet)`, was cut off at the box's edge).
 */

import type { Capabilities } from "../../view/source.js";
import { KEY_TABLE, type KeyRow } from "../keys.js";
import { wrap } from "./log.js";

/** The keys' column, then a space. */
const KEYS_WIDTH = 13;

export function renderHelp(
  caps: Capabilities,
  width = Infinity,
  rows: readonly KeyRow[] = KEY_TABLE,
): string[] {
  const lines: string[] = [];
  for (const k of rows) {
    const off = k.needs !== undefined && !caps[k.needs];
    const parts = wrap(`${k.what}${off ? " (not for this fleet)" : ""}`, Math.max(10, width - KEYS_WIDTH));
    parts.forEach((p, i) => {
      const line = `${(i === 0 ? k.label : "").padEnd(KEYS_WIDTH - 1)} ${p}`;
      lines.push(off ? `{gray-fg}${line}{/gray-fg}` : line);
    });
  }
  const cells =
    "Cells: letter/shape = kind, capital/filled = on, x offline, ! set/pairing kept; green in sync, red out of sync. Zoomed out: share on.";
  lines.push(...wrap(cells, Math.max(10, Math.min(width, 72))));
  const chart =
    "Convergence chart: a gray band (░, or / in ASCII) where no follower was online or the broker was away: the share there is the last-heard one.";
  lines.push(...wrap(chart, Math.max(10, Math.min(width, 72))));
  return lines;
}
