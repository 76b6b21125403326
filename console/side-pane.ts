/**
 * The right-hand pane of the console: the convergence chart (the last minutes, or the twins
 * service's last 48 h) and the latency chart, or, while it is open, the detail of the node under the
 * cursor in their place.
 */
import type { NodeId } from "../protocol/index.js";
import type { MinutesState } from "../view/minutes-feed.js";
import type { ConsoleSource, ConvergenceSnapshot } from "../view/source.js";
import { type ConsoleBoxes, fitLabel } from "./layout.js";
import { renderConvergence, renderLatency } from "./render/charts.js";
import { renderDetail } from "./render/detail.js";
import type { Glyphs } from "./render/glyphs.js";
import { renderMinutes } from "./render/minutes.js";

export interface SidePane {
  readonly source: ConsoleSource;
  readonly convergence: ConvergenceSnapshot;
  /** The node whose detail is shown; undefined shows the charts. */
  readonly detailOf: NodeId | undefined;
  readonly glyphs: Glyphs;
  /** The convergence chart's window, ms. */
  readonly windowMs: number;
  /** The long range's minutes, when the chart shows them instead of the last minutes. */
  readonly minutes?: MinutesState | undefined;
}

export function drawSidePane(b: ConsoleBoxes, p: SidePane): void {
  const { conv, lat, detail } = b;
  const iw = Math.max(1, (conv.width as number) - 2);
  const ih = (conv.height as number) - 2;
  if (p.minutes !== undefined) {
    // A narrow box keeps what the chart shows (`last 48 h`) rather than `convergence, last ` cut.
    const w = conv.width as number;
    conv.setLabel(
      fitLabel(" convergence, last 48 h ".length <= w - 4 ? "convergence, last 48 h" : "last 48 h", w),
    );
    conv.setContent(renderMinutes(p.minutes, iw, ih, p.glyphs).join("\n"));
  } else {
    conv.setContent(
      renderConvergence(p.convergence, p.source.now(), iw, ih, p.glyphs, p.windowMs).join("\n"),
    );
  }
  lat.setContent(renderLatency(p.source.latency(), iw, (lat.height as number) - 2, p.glyphs).join("\n"));
  if (p.detailOf !== undefined) {
    const d = p.source.detail(p.detailOf);
    detail.setContent(d ? renderDetail(d, iw).join("\n") : `${p.detailOf}\n{gray-fg}no detail yet{/gray-fg}`);
    detail.show();
    conv.hide();
    lat.hide();
  } else {
    detail.hide();
    conv.show();
    lat.show();
  }
}
