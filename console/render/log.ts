/**
 * The event log box: the newest lines that fit, each stamped mm:ss since the console opened,
 * warnings yellow and errors red. A line longer than the box is wrapped at spaces, its following
 * rows indented under its text: the end of a long line (what a stored pairing waits for, what to do)
 * is what an operator reads it for.
 */
import type { LogLine } from "../../view/source.js";
import { escapeTags } from "./glyphs.js";

/** `mm:ss ` before each line's text. */
const STAMP_WIDTH = 6;

export function renderLog(lines: readonly LogLine[], t0: number, rows: number, width = Infinity): string[] {
  const room = Math.max(1, rows);
  const textWidth = Math.max(10, width - STAMP_WIDTH);
  const out: string[] = [];
  // Newest first, until the box is full: only those are wrapped.
  for (let i = lines.length - 1; i >= 0 && out.length < room; i--) {
    const l = lines[i] as LogLine;
    const s = Math.max(0, Math.floor((l.t - t0) / 1000));
    const stamp = `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
    const color = l.level === "error" ? "red-fg" : l.level === "warn" ? "yellow-fg" : "";
    const paint = (t: string) => (color ? `{${color}}${escapeTags(t)}{/${color}}` : escapeTags(t));
    const parts = wrap(l.text, textWidth);
    const rendered = parts.map((p, j) =>
      j === 0 ? `{gray-fg}${stamp}{/gray-fg} ${paint(p)}` : `${" ".repeat(STAMP_WIDTH)}${paint(p)}`,
    );
    out.unshift(...rendered);
  }
  return out.slice(-room);
}

/** `text` in rows of at most `width` characters, broken at spaces where it can be. */
export function wrap(text: string, width: number): string[] {
  if (text.length <= width) return [text];
  const rows: string[] = [];
  let rest = text;
  while (rest.length > width) {
    const space = rest.lastIndexOf(" ", width);
    const cut = space > width / 2 ? space : width;
    rows.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^ /, "");
  }
  if (rest.length > 0) rows.push(rest);
  return rows;
}
