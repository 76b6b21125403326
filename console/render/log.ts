/**
 * The event log box: the newest lines that fit, each stamped mm:ss since the console opened,
 * warnings yellow and errors red.
 */
import type { LogLine } from "../../view/source.js";
import { escapeTags } from "./glyphs.js";

export function renderLog(lines: readonly LogLine[], t0: number, rows: number): string[] {
  return lines.slice(-Math.max(1, rows)).map((l) => {
    const s = Math.max(0, Math.floor((l.t - t0) / 1000));
    const stamp = `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
    const color = l.level === "error" ? "red-fg" : l.level === "warn" ? "yellow-fg" : "";
    const text = escapeTags(l.text);
    return `{gray-fg}${stamp}{/gray-fg} ${color ? `{${color}}${text}{/${color}}` : text}`;
  });
}
