/**
 * The help screen: every key, and which actions this fleet does not offer.
 */
import type { Capabilities, Capability } from "../source.js";

export interface KeyHelp {
  readonly keys: string;
  readonly what: string;
  /** The source capability the key needs, if any. */
  readonly needs?: Capability;
}

export const KEYS: readonly KeyHelp[] = [
  { keys: "arrows hjkl", what: "move the cursor over the fleet" },
  { keys: "PgUp PgDn", what: "previous / next page (mouse wheel too)" },
  { keys: "Home End", what: "first / last node" },
  { keys: "Enter d", what: "node detail on / off (or click a node)" },
  { keys: "g", what: "go to a node by id" },
  { keys: "z", what: "zoom: one node per cell / whole fleet" },
  { keys: "f", what: "filter: all, out of sync, offline, real" },
  { keys: "p Space", what: "press the node's button", needs: "press" },
  { keys: "1 0", what: "set the node on / off", needs: "set" },
  { keys: "a", what: "pair: the node follows a source (asks its id)", needs: "pair" },
  { keys: "u", what: "unpair: stop following a source (asks its id)", needs: "unpair" },
  { keys: "c", what: "power-cycle the node", needs: "powerCycle" },
  { keys: "x", what: "pull / plug the node's cable", needs: "pullCable" },
  { keys: "r", what: "send query (every node re-reports)", needs: "query" },
  { keys: "+ -", what: "raise / lower the packet loss", needs: "setLoss" },
  { keys: "L", what: "set the packet loss (asks %)", needs: "setLoss" },
  { keys: "? F1", what: "this help (any key closes it)" },
  { keys: "q Ctrl-C", what: "quit" },
];

export function renderHelp(caps: Capabilities): string[] {
  const lines = ["{bold}twinfleet console - keys{/bold}"];
  for (const k of KEYS) {
    const off = k.needs !== undefined && !caps[k.needs];
    const line = `${k.keys.padEnd(12)} ${k.what}${off ? " (not for this fleet)" : ""}`;
    lines.push(off ? `{gray-fg}${line}{/gray-fg}` : line);
  }
  lines.push("Cells: letter or shape = kind (sim, real), capital or filled = on,");
  lines.push("x offline; color: green in sync, red out of sync. Zoomed out: share on.");
  return lines;
}
