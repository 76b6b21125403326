/**
 * Every session lost has its cause in the report and the summary's link line: the node's keepalive,
 * the broker's close, the chip's TCP giving up, or a power cut. A seeded virtual run with each of
 * them: the causes add up to the sessions lost.
 */
import { expect, it } from "vitest";
import type { FleetOptions } from "../../fleet/options.js";
import { runFleet } from "../../fleet/run.js";
import { NodeId } from "../../protocol/index.js";
import { summary } from "../sim-summary.js";

const fleet: FleetOptions = {
  clock: "virtual",
  nodes: 24,
  durationS: 60,
  settleS: 5,
  ratePerNodePerMin: 30,
  seed: "lost",
  faults: [
    { kind: "power-outage", atS: 5, offS: 2, nodes: "25%" },
    { kind: "broker-restart", atS: 10, downS: 3 },
    { kind: "partition", atS: 15, forS: 40, nodes: [NodeId("n-0003")] },
    { kind: "loss", atS: 20, pct: 60, forS: 20 },
  ],
};

it("counts each session lost under one cause, and the causes add up to the sessions lost", async () => {
  const r = await runFleet(fleet);
  const l = r.link;
  // The outage cut 6 connected nodes; the restart closed all 24 and more went in the loss burst.
  expect(l.powerCuts).toBe(6);
  expect(l.closedByBroker).toBeGreaterThanOrEqual(24);
  expect(l.keepaliveTimeouts).toBeGreaterThan(0);
  expect(l.tcpTimeouts).toBeGreaterThan(0);
  const sum =
    (l.keepaliveTimeouts ?? 0) + (l.closedByBroker ?? 0) + (l.tcpTimeouts ?? 0) + (l.powerCuts ?? 0);
  expect(sum).toBe(l.disconnects);
  expect(summary(r)).toContain(
    `${l.disconnects} sessions lost (${l.keepaliveTimeouts} by keepalive, ${l.closedByBroker} closed by the broker, ${l.tcpTimeouts} by TCP timeout, 6 by power cut), ${l.reconnects} reconnects`,
  );
}, 120_000);
