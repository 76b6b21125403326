/**
 * Where a cursor move lands on the fleet grid: by a cell, a row, a page, or to either end, clamped to
 * the nodes shown.
 */
import { assertNever } from "../protocol/index.js";
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
