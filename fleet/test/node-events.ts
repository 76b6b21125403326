/** Node events for the collector's tests: a press and an applied report, each with its stamp. */

import type { NodeEvent } from "../../node/metrics.js";
import type { NodeId, Stamp } from "../../protocol/index.js";

export const press = (node: NodeId, at: number, s: Stamp): NodeEvent => ({
  type: "press",
  node,
  at,
  ledAt: at,
  stamp: s,
});

export const applied = (node: NodeId, at: number, s: Stamp): NodeEvent => ({
  type: "applied",
  node,
  at,
  stamp: s,
  on: true,
  via: "report",
});
