/**
 * Where the console's boxes go for a terminal of W × H: the fleet grid on the left, convergence and
 * latency (or the node detail) on the right, the event log below, header and footer lines.
 */
import type blessed from "blessed";

export interface ConsoleBoxes {
  readonly header: blessed.Widgets.BoxElement;
  readonly grid: blessed.Widgets.BoxElement;
  readonly conv: blessed.Widgets.BoxElement;
  readonly lat: blessed.Widgets.BoxElement;
  readonly detail: blessed.Widgets.BoxElement;
  readonly log: blessed.Widgets.BoxElement;
  readonly footer: blessed.Widgets.BoxElement;
  readonly help: blessed.Widgets.BoxElement;
}

export function placeBoxes(b: ConsoleBoxes, W: number, H: number): void {
  const right = W >= 120 ? Math.floor(W * 0.35) : Math.min(34, Math.floor(W * 0.4));
  const logH = H >= 40 ? 9 : 5;
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
}
