/**
 * The help screen, drawn from the key table (console/keys.ts): every key, and which actions this
 * fleet does not offer.
 */

import type { Capabilities } from "../../view/source.js";
import { KEY_TABLE, type KeyRow } from "../keys.js";

export function renderHelp(caps: Capabilities, rows: readonly KeyRow[] = KEY_TABLE): string[] {
  const lines: string[] = [];
  for (const k of rows) {
    const off = k.needs !== undefined && !caps[k.needs];
    const line = `${k.label.padEnd(12)} ${k.what}${off ? " (not for this fleet)" : ""}`;
    lines.push(off ? `{gray-fg}${line}{/gray-fg}` : line);
  }
  lines.push("Cells: letter or shape = kind (sim, real), capital or filled = on,");
  lines.push("x offline; color: green in sync, red out of sync. Zoomed out: share on.");
  return lines;
}
