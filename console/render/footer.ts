/**
 * The footer line: the key hints (from the key table, console/keys.ts, for the actions this fleet
 * offers), or what the console is asking (a prompt, a y/n), or — while the fleet finishes after a
 * first quit — what it waits for and how to stop now.
 */

import type { Capabilities } from "../../view/source.js";
import { KEY_TABLE, type KeyRow } from "../keys.js";
import { escapeTags } from "./glyphs.js";

export interface FooterState {
  /** The fleet is finishing: its line. */
  readonly ending?: string;
  readonly prompt?: { readonly label: string; readonly value: string };
  /** A y/n question. */
  readonly question?: string;
}

/** The footer's content, blessed tags included. */
export function renderFooter(
  s: FooterState,
  caps: Capabilities,
  rows: readonly KeyRow[] = KEY_TABLE,
): string {
  if (s.ending !== undefined) {
    return `{yellow-fg}${escapeTags(` ${s.ending}   q or Ctrl-C: stop now`)}{/yellow-fg}`;
  }
  if (s.prompt) return escapeTags(` ${s.prompt.label}: ${s.prompt.value}_   (Enter ok, Esc cancel)`);
  if (s.question !== undefined) return `{yellow-fg}${escapeTags(` ${s.question}? y/n`)}{/yellow-fg}`;
  const hints = rows.filter((r) => r.hint !== undefined && (r.needs === undefined || caps[r.needs]));
  return escapeTags(` ${hints.map((r) => r.hint).join(" ")}`);
}
