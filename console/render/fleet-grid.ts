/**
 * The fleet view as text: counts, filters and the grid of cells — one node per cell (paged), or,
 * zoomed out, the whole fleet with each cell standing for a block of nodes. Pure and linear in the
 * number of nodes; only the visible cells are drawn.
 */
import { assertNever } from "../../protocol/index.js";
import type { ConsoleNode } from "../../view/source.js";
import { colorRuns, type Glyphs } from "./glyphs.js";

export const FILTERS = ["all", "out-of-sync", "offline", "real"] as const;
export type Filter = (typeof FILTERS)[number];

export type Zoom = "node" | "fit";

export interface FleetSummary {
  readonly total: number;
  readonly online: number;
  /** Not heard since the broker restarted (ConsoleNode.unheard). */
  readonly unheard?: number;
  readonly on: number;
  readonly inSync: number;
  readonly outOfSync: number;
  readonly real: number;
  readonly sim: number;
}

export function summarize(nodes: readonly ConsoleNode[]): FleetSummary {
  let online = 0;
  let on = 0;
  let inSync = 0;
  let outOfSync = 0;
  let real = 0;
  let sim = 0;
  let unheard = 0;
  for (const n of nodes) {
    if (n.online) online++;
    if (n.unheard) unheard++;
    if (n.on) on++;
    if (n.sync === "in-sync") inSync++;
    else if (n.sync === "out-of-sync") outOfSync++;
    if (n.kind === "real") real++;
    else if (n.kind === "sim" || n.kind === "host") sim++;
  }
  return {
    total: nodes.length,
    online,
    on,
    inSync,
    outOfSync,
    real,
    sim,
    ...(unheard > 0 ? { unheard } : {}),
  };
}

export function applyFilter(nodes: readonly ConsoleNode[], filter: Filter): readonly ConsoleNode[] {
  switch (filter) {
    case "all":
      return nodes;
    case "out-of-sync":
      return nodes.filter((n) => n.sync === "out-of-sync");
    case "offline":
      return nodes.filter((n) => !n.online);
    case "real":
      return nodes.filter((n) => n.kind === "real");
    default:
      assertNever(filter);
  }
}

export interface GridLayout {
  /** Nodes per cell: 1 when zoomed in. */
  readonly perCell: number;
  /** Nodes per page (cells × perCell). */
  readonly perPage: number;
  readonly pages: number;
}

export function gridLayout(count: number, width: number, height: number, zoom: Zoom): GridLayout {
  const cells = Math.max(1, width * height);
  if (zoom === "fit") {
    const perCell = Math.max(1, Math.ceil(count / cells));
    return { perCell, perPage: perCell * cells, pages: 1 };
  }
  return { perCell: 1, perPage: cells, pages: Math.max(1, Math.ceil(count / cells)) };
}

export function nodeStyle(n: ConsoleNode): string {
  if (!n.online) return n.waits === undefined ? "gray-fg" : "yellow-fg";
  switch (n.sync) {
    case "in-sync":
      return "green-fg";
    case "out-of-sync":
      return "red-fg";
    case "unknown":
      return "white-fg";
    default:
      assertNever(n.sync);
  }
}

export function nodeGlyph(n: ConsoleNode, g: Glyphs): string {
  if (!n.online) return n.waits === undefined ? g.offline : g.waits;
  const [on, off] = g.node[n.kind ?? "unknown"];
  return n.on ? on : off;
}

function blockCell(nodes: readonly ConsoleNode[], from: number, to: number, g: Glyphs) {
  let on = 0;
  let online = 0;
  let out = 0;
  for (let i = from; i < to; i++) {
    const n = nodes[i];
    if (!n) continue;
    if (n.on) on++;
    if (n.online) online++;
    if (n.online && n.sync === "out-of-sync") out++;
  }
  const size = to - from;
  const share = on === 0 ? 0 : on === size ? 4 : on * 3 <= size ? 1 : on * 3 <= size * 2 ? 2 : 3;
  const color =
    online === 0
      ? "gray-fg"
      : out * 2 >= online
        ? "red-fg"
        : out > 0 || online < size
          ? "yellow-fg"
          : "green-fg";
  return { ch: g.share[share] ?? "?", color };
}

/**
 * Draws the page holding `cursor` (an index into `nodes`); the cursor's cell is shown inverse.
 * Returns exactly `height` lines of `width` cells (blank where the page ends).
 */
export function renderGrid(
  nodes: readonly ConsoleNode[],
  width: number,
  height: number,
  zoom: Zoom,
  cursor: number,
  g: Glyphs,
): { readonly lines: string[]; readonly page: number; readonly layout: GridLayout } {
  const layout = gridLayout(nodes.length, width, height, zoom);
  const page = Math.floor(Math.max(0, cursor) / layout.perPage);
  const first = page * layout.perPage;
  const cursorCell = Math.floor((cursor - first) / layout.perCell);
  const lines: string[] = [];
  for (let row = 0; row < height; row++) {
    const cells: { ch: string; color: string }[] = [];
    for (let col = 0; col < width; col++) {
      const cell = row * width + col;
      const from = first + cell * layout.perCell;
      let c = { ch: " ", color: "" };
      if (from < nodes.length) {
        const n = nodes[from];
        if (layout.perCell === 1 && n) c = { ch: nodeGlyph(n, g), color: nodeStyle(n) };
        else c = blockCell(nodes, from, Math.min(nodes.length, from + layout.perCell), g);
      }
      if (cell === cursorCell && from < nodes.length) c = { ch: c.ch, color: `${c.color} inverse`.trim() };
      cells.push(c);
    }
    lines.push(colorRuns(cells));
  }
  return { lines, page, layout };
}

/** Which node index a click at (col, row) inside the grid lands on, if any. */
export function indexAt(
  count: number,
  width: number,
  layout: GridLayout,
  page: number,
  col: number,
  row: number,
): number | undefined {
  if (col < 0 || row < 0 || col >= width) return undefined;
  const i = page * layout.perPage + (row * width + col) * layout.perCell;
  return i < count ? i : undefined;
}

export function legend(g: Glyphs, zoom: Zoom): string {
  if (zoom === "fit") {
    return `${g.share[0]}${g.share[2]}${g.share[4]} share on  {green-fg}all in sync{/green-fg} {yellow-fg}some out{/yellow-fg} {red-fg}half out{/red-fg}`;
  }
  const [simOn, simOff] = g.node.sim;
  const [realOn, realOff] = g.node.real;
  return `${simOn}${simOff} sim ${realOn}${realOff} real on/off ${g.offline} offline {yellow-fg}${g.waits}{/yellow-fg} waits {green-fg}sync{/green-fg} {red-fg}out{/red-fg}`;
}
