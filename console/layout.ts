/**
 * The console's boxes, and where they go for a terminal of W × H: the fleet grid on the left,
 * convergence and latency (or the node detail) on the right, the event log below, header and footer
 * lines. Below MIN_COLS × MIN_ROWS there is no room for them: a message says so instead (the boxes
 * drew over each other, their titles wrapped into the fleet's cells). A title longer than its box is
 * cut to fit: blessed wrapped it onto the box's first row.
 */
import blessed from "blessed";
import type { Capabilities } from "../view/source.js";
import { renderHelp } from "./render/help.js";

/** The smallest terminal the console draws its boxes in. */
export const MIN_COLS = 40;
export const MIN_ROWS = 12;

/** Whether a terminal of W × H has room for the boxes. */
export const fitsIn = (W: number, H: number): boolean => W >= MIN_COLS && H >= MIN_ROWS;

export interface ConsoleBoxes {
  readonly header: blessed.Widgets.BoxElement;
  readonly grid: blessed.Widgets.BoxElement;
  readonly conv: blessed.Widgets.BoxElement;
  readonly lat: blessed.Widgets.BoxElement;
  readonly detail: blessed.Widgets.BoxElement;
  readonly log: blessed.Widgets.BoxElement;
  readonly footer: blessed.Widgets.BoxElement;
  readonly help: blessed.Widgets.BoxElement;
  /** The message shown instead of the boxes on a terminal too small for them. */
  readonly small: blessed.Widgets.BoxElement;
}

/** The titles of the boxes whose title does not change. */
const TITLES = { conv: "convergence", lat: "sync latency", detail: "node", log: "events", help: "keys" };

export function createBoxes(screen: blessed.Widgets.Screen): ConsoleBoxes {
  // No wrapping: every line is drawn to fit, and blessed counts tag escapes when it word-wraps.
  const box = (o: blessed.Widgets.BoxOptions) =>
    blessed.box({ parent: screen, tags: true, wrap: false, ...o });
  const framed = (label: string, o: blessed.Widgets.BoxOptions = {}) =>
    box({ border: "line", label: ` ${label} `, ...o });
  return {
    header: box({ top: 0, left: 0, height: 1, style: { bg: "blue", fg: "white" } }),
    grid: framed("fleet"),
    conv: framed(TITLES.conv),
    lat: framed(TITLES.lat),
    detail: framed(TITLES.detail, { hidden: true }),
    log: framed(TITLES.log),
    footer: box({ left: 0, height: 1, style: { bg: "black", fg: "white" } }),
    help: framed(TITLES.help, {
      hidden: true,
      top: "center",
      left: "center",
      scrollable: true,
      alwaysScroll: true,
    }),
    small: box({ top: 0, left: 0, hidden: true }),
  };
}

/** ` title ` cut to fit on the top border of a box `width` wide, between its corners. */
export function fitLabel(title: string, width: number): string {
  const room = width - 4;
  if (room < 1) return "";
  const text = ` ${title} `;
  return text.length <= room ? text : `${text.slice(0, room - 1)} `;
}

/**
 * The fleet box's title: the filter, the node under the cursor, the page (and nodes per cell). When
 * it is too long for the box (a long id, a narrow terminal) `fleet` goes first, then the id's end.
 */
export function gridTitle(filter: string, id: string, page: string, width: number): string {
  const f = filter === "all" ? "" : `[${filter}] `;
  const full = ` fleet ${f}${id} ${page} `;
  if (full.length <= width - 4) return full;
  const short = ` ${f}${id} ${page} `;
  if (short.length <= width - 4) return short;
  const idRoom = width - 4 - ` ${f} ${page} `.length;
  if (idRoom >= 4) return ` ${f}${id.slice(0, idRoom - 1)}~ ${page} `;
  return fitLabel(`${f}${id}`, width);
}

/** What the console shows on a terminal smaller than MIN_COLS × MIN_ROWS, in `width` columns. */
export function tooSmall(width: number, height: number): string[] {
  const words = `terminal too small: ${width}x${height}; the console needs ${MIN_COLS}x${MIN_ROWS} at least. q quits`;
  const lines: string[] = [];
  for (const word of words.split(" ")) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + 1 + word.length <= width)
      lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word.slice(0, Math.max(1, width)));
  }
  return lines.slice(0, Math.max(1, height));
}

/**
 * Places the boxes for a terminal of W × H and fits their titles; false (and only the too-small
 * message shown) when the terminal is smaller than MIN_COLS × MIN_ROWS.
 */
export function placeBoxes(b: ConsoleBoxes, W: number, H: number): boolean {
  const fits = fitsIn(W, H);
  for (const e of [b.header, b.grid, b.log, b.footer]) fits ? e.show() : e.hide();
  if (!fits) {
    for (const e of [b.conv, b.lat, b.detail, b.help]) e.hide();
    Object.assign(b.small, { width: W, height: H });
    b.small.setContent(tooSmall(W, H).join("\n"));
    b.small.show();
    return false;
  }
  b.small.hide();
  const right = W >= 120 ? Math.floor(W * 0.35) : Math.min(34, Math.floor(W * 0.4));
  // The event log gives up rows on a short terminal: the charts need three at least.
  const logH = H >= 40 ? 9 : H >= 16 ? 5 : 3;
  const mainH = Math.max(4, H - 2 - logH);
  const convH = Math.floor(mainH / 2);
  b.header.width = W;
  Object.assign(b.grid, { top: 1, left: 0, width: W - right, height: mainH });
  Object.assign(b.conv, { top: 1, left: W - right, width: right, height: convH });
  Object.assign(b.lat, { top: 1 + convH, left: W - right, width: right, height: mainH - convH });
  Object.assign(b.detail, { top: 1, left: W - right, width: right, height: mainH });
  Object.assign(b.log, { top: 1 + mainH, left: 0, width: W, height: logH });
  Object.assign(b.footer, { top: H - 1, width: W });
  b.help.width = Math.min(W, 78);
  for (const k of ["conv", "lat", "detail", "log", "help"] as const)
    b[k].setLabel(fitLabel(TITLES[k], b[k].width as number));
  return true;
}

/**
 * The help box over the screen, as tall as its lines or the terminal. Taller than the terminal, it
 * scrolls (scrollHelp) and its title says so; below 27 rows the last keys were out of reach.
 */
export function drawHelp(help: blessed.Widgets.BoxElement, caps: Capabilities, H: number): void {
  const lines = renderHelp(caps, (help.width as number) - 2);
  help.height = Math.min(H, lines.length + 2);
  const more = lines.length + 2 > H ? " (arrows, PgUp PgDn: more)" : "";
  help.setLabel(fitLabel(`keys${more}`, help.width as number));
  help.setContent(lines.join("\n"));
  help.show();
}

/** The keys that scroll the help, by a line (±1) or a page (±2). */
const HELP_SCROLL: Readonly<Record<string, number>> = {
  up: -1,
  k: -1,
  down: 1,
  j: 1,
  pageup: -2,
  pagedown: 2,
};

/** Scrolls the help for a key that scrolls it (true); false for any other key, which closes it. */
export function scrollHelp(help: blessed.Widgets.BoxElement, key: string): boolean {
  const by = HELP_SCROLL[key];
  if (by === undefined) return false;
  help.scroll(Math.abs(by) === 1 ? by : Math.sign(by) * ((help.height as number) - 2));
  return true;
}
