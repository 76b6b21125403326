/**
 * Where a cursor move lands on the fleet grid: by a cell, a row, a page, or to either end, clamped to
 * the nodes shown.
 */
import { assertNever } from "../protocol/index.js";
import type { ConsoleNode } from "../view/source.js";
import type { Move } from "./keys.js";
import type { GridLayout } from "./render/fleet-grid.js";

/** The index a move from `cursor` lands on, among `count` nodes drawn `width` cells wide. */
export function moveCursor(
  to: Move,
  cursor: number,
  count: number,
  layout: GridLayout,
  width: number,
): number {
  const step = layout.perCell;
  return clampCursor(target(), count);
  function target(): number {
    switch (to) {
      case "left":
        return cursor - step;
      case "right":
        return cursor + step;
      case "up":
        return cursor - step * width;
      case "down":
        return cursor + step * width;
      case "page-up":
        return cursor - layout.perPage;
      case "page-down":
        return cursor + layout.perPage;
      case "first":
        return 0;
      case "last":
        return count - 1;
      default:
        return assertNever(to);
    }
  }
}

/** `i` kept on a node (0 when there are none). */
export function clampCursor(i: number, count: number): number {
  return Math.max(0, Math.min(count - 1, i));
}

/**
 * Where the cursor goes among the nodes `shown` (the fleet `all` through a filter): on the node chosen
 * (`chosenId`) wherever the list moved it; when the filter hides that node, on the first node shown
 * after it in the fleet's order (else the last), so that a filter cleared again finds it where it was.
 * Without a node chosen, the index `cursor` kept in range.
 */
export function placeCursor(
  all: readonly ConsoleNode[],
  shown: readonly ConsoleNode[],
  cursor: number,
  chosenId: string | undefined,
): number {
  if (chosenId === undefined) return clampCursor(cursor, shown.length);
  if (shown[cursor]?.id === chosenId) return cursor;
  const i = shown.findIndex((n) => n.id === chosenId);
  if (i >= 0) return i;
  const at = all.findIndex((n) => n.id === chosenId);
  if (at < 0) return clampCursor(cursor, shown.length);
  const order = new Map<string, number>(all.map((n, k) => [n.id, k]));
  const after = shown.findIndex((n) => (order.get(n.id) ?? -1) > at);
  return after >= 0 ? after : clampCursor(shown.length - 1, shown.length);
}
