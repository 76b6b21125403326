/**
 * The characters the console draws with: Unicode shapes where the terminal speaks UTF-8, plain
 * ASCII otherwise (or on request), so the fleet stays readable on any terminal and in plain text.
 */
import type { NodeKind } from "../../protocol/index.js";

export interface Glyphs {
  /** A single node, by kind, `[on, off]`; `unknown` before the node has registered. */
  readonly node: Readonly<Record<NodeKind | "unknown", readonly [on: string, off: string]>>;
  readonly offline: string;
  /** An offline node with a set or a pairing kept for its return (ConsoleNode.waits). */
  readonly waits: string;
  /** Aggregate cells by share of nodes on: none, a third or less, two thirds or less, fewer than all, all. */
  readonly share: readonly [string, string, string, string, string];
  /** Bar heights in eighths of a row, 0 to 8. */
  readonly bar: readonly string[];
  /** The paper's 1 s mark in the latency histogram. */
  readonly mark: string;
  /**
   * The convergence chart's band where no follower was online or the broker was lost (the share there
   * is the last-heard one).
   */
  readonly unjudged: string;
}

export const UNICODE: Glyphs = {
  node: { sim: ["●", "○"], real: ["■", "□"], host: ["▲", "△"], unknown: ["◆", "◇"] },
  offline: "×",
  waits: "!",
  share: ["·", "░", "▒", "▓", "█"],
  bar: [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"],
  mark: "│",
  unjudged: "░",
};

export const ASCII: Glyphs = {
  node: { sim: ["O", "o"], real: ["R", "r"], host: ["H", "h"], unknown: ["U", "u"] },
  offline: "x",
  waits: "!",
  share: [".", ":", "+", "*", "#"],
  bar: [" ", " ", " ", ".", ".", ":", ":", "#", "#"],
  mark: "|",
  unjudged: "/",
};

/**
 * The text's non-ASCII characters (speeds, events from the fleet) as one ASCII character each, for a
 * terminal that is not UTF-8: blessed drew them as `?`. One character, as blessed has counted it.
 */
export const ASCII_TEXT: Readonly<Record<string, string>> = {
  "×": "x",
  "…": "~",
  "→": ">",
  "←": "<",
  "≥": ">",
  "≤": "<",
  "·": ".",
  "–": "-",
  "—": "-",
  µ: "u",
};

/** UTF-8 when the locale says so (the usual LC_ALL > LC_CTYPE > LANG precedence). */
export function glyphsFor(env: NodeJS.ProcessEnv, ascii?: boolean): Glyphs {
  if (ascii !== undefined) return ascii ? ASCII : UNICODE;
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || "";
  return /utf-?8/i.test(locale) ? UNICODE : ASCII;
}

/** blessed tags are `{...}`: text from outside (ids are safe, log lines are not) must not open one. */
export function escapeTags(s: string): string {
  return s.replace(/[{}]/g, (c) => (c === "{" ? "{open}" : "{close}"));
}

/**
 * Joins cells into one tagged line, one tag pair per run of equal style (not per cell). A style is
 * blessed tag names separated by spaces, e.g. `green-fg inverse`; empty for none.
 */
export function colorRuns(cells: readonly { readonly ch: string; readonly color: string }[]): string {
  let out = "";
  let i = 0;
  while (i < cells.length) {
    const color = cells[i]?.color ?? "";
    let run = "";
    while (i < cells.length && cells[i]?.color === color) {
      run += cells[i]?.ch ?? "";
      i++;
    }
    const tags = color.split(" ").filter((t) => t !== "");
    const open = tags.map((t) => `{${t}}`).join("");
    const close = tags
      .reverse()
      .map((t) => `{/${t}}`)
      .join("");
    out += open + run + close;
  }
  return out;
}
