// Cursor moves on the fleet grid: by a cell (or a cell's share when zoomed out), a row, a page, to
// either end, and never off the nodes shown.
import { describe, expect, it } from "vitest";
import { clampCursor, moveCursor } from "../cursor.js";

const layout = { perCell: 1, perPage: 40, pages: 3 };

describe("moveCursor", () => {
  it("moves by a cell, a row of the grid's width, a page, and to the ends", () => {
    expect(moveCursor("right", 5, 100, layout, 10)).toBe(6);
    expect(moveCursor("left", 5, 100, layout, 10)).toBe(4);
    expect(moveCursor("down", 5, 100, layout, 10)).toBe(15);
    expect(moveCursor("up", 15, 100, layout, 10)).toBe(5);
    expect(moveCursor("page-down", 5, 100, layout, 10)).toBe(45);
    expect(moveCursor("page-up", 45, 100, layout, 10)).toBe(5);
    expect(moveCursor("first", 45, 100, layout, 10)).toBe(0);
    expect(moveCursor("last", 0, 100, layout, 10)).toBe(99);
  });

  it("steps by the nodes a cell holds when zoomed out, and stays on the nodes shown", () => {
    expect(moveCursor("right", 0, 100, { ...layout, perCell: 4 }, 10)).toBe(4);
    expect(moveCursor("up", 3, 100, layout, 10)).toBe(0);
    expect(moveCursor("page-down", 90, 100, layout, 10)).toBe(99);
    expect(clampCursor(7, 0)).toBe(0);
  });
});
