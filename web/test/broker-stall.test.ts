/**
 * A twins service's broker lost in its own stall (it did not run: SIGSTOP, a paused VM) on the page
 * and `/metrics`: the connection was lost, and the event log, the fault, `/healthz` and the outages'
 * count say it was the service's own stall; an outage that outlasts the stall is the broker's
 * (docs/twins.md, "The service itself stopped"). The service's `broker` events, as
 * twins/test/broker-stall-event.test.ts shows them told.
 */
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import type { Stall } from "../../node/stall-watch.js";
import { twinsFigures } from "../../view/figures.js";
import { LiveFaults } from "../../view/live-faults.js";
import type { ConsoleSource } from "../../view/source.js";
import { WebMetrics } from "../metrics.js";

const STALL: Stall = { startMs: 10_250, endMs: 35_000 };

describe("the page's fault and event log", () => {
  it("says a loss in the service's own stall is its own, lost and back", () => {
    const live = new LiveFaults();
    const lost = live.brokerTold(false, 35_010, { lastHeardAt: 10_000, how: "lost", stall: STALL });
    expect(lost).toEqual({
      level: "warn",
      text: "broker connection lost; the service itself did not run for 24.8 s (its host stopped or paused it): its own stall, not the broker's: what is shown is as it was, until it is back",
    });
    expect(live.list(35_500)).toEqual([
      {
        what: "broker connection lost (the service itself did not run for 24.8 s (its host stopped or paused it): its own stall, not the broker's)",
        since: 35_010,
      },
    ]);
    expect(live.health(36_010)).toBe(
      "the broker connection has been lost for 1 s (the service itself did not run for 24.8 s (its host stopped or paused it): its own stall, not the broker's): the nodes are shown as they were, until it is back",
    );
    expect(live.brokerTold(true, 36_100, { stall: STALL })).toEqual({
      level: "info",
      text: "broker connection back: the service itself did not run for 24.8 s (its host stopped or paused it): its own stall, not the broker's",
    });
    expect(live.list(36_200)).toEqual([]);
  });

  it("says an outage that outlasted the stall was the broker's too", () => {
    const live = new LiveFaults();
    live.brokerTold(false, 35_010, { lastHeardAt: 10_000, how: "lost", stall: STALL });
    expect(live.brokerTold(true, 60_000, {})).toEqual({
      level: "warn",
      text: "broker connection back: lost while the service itself did not run (24.8 s), but away longer than its stall explains: the broker, or the path to it, was away too",
    });
  });

  it("tells a broker's own outage as before", () => {
    const live = new LiveFaults();
    expect(live.brokerTold(false, 5000, { lastHeardAt: 4000, how: "lost" }).text).toBe(
      "broker connection lost: what is shown is as it was, until it is back",
    );
    expect(live.brokerTold(true, 7000, {}).text).toBe("broker connection back");
  });
});

it("/metrics counts the outages that ended by cause: the service's own stall, or the broker", async () => {
  const twins = Object.assign(new EventEmitter(), {
    waiting: undefined,
    unsavedSince: undefined,
    otherServices: [],
    badInput: () => ({ byReason: {} }),
    get: () => undefined,
    convergence: () => ({ followers: [] }),
  });
  const figures = twinsFigures(twins as unknown as Parameters<typeof twinsFigures>[0], () => 0);
  const source = { nodes: () => [], convergence: () => ({ inSync: 0, known: 0, fraction: 1 }) };
  const metrics = new WebMetrics(source as unknown as ConsoleSource, figures);
  const count = async () =>
    (await metrics.text()).split("\n").filter((l) => l.startsWith("twinfleet_twins_broker_outages_total"));
  twins.emit("broker", false, 10_000, "lost", STALL);
  expect(await count()).toEqual([
    'twinfleet_twins_broker_outages_total{cause="own-stall"} 0',
    'twinfleet_twins_broker_outages_total{cause="broker"} 0',
  ]);
  twins.emit("broker", true, undefined, undefined, STALL);
  twins.emit("broker", false, 50_000, "silent");
  twins.emit("broker", false, 50_000, "lost");
  twins.emit("broker", true);
  expect(await count()).toEqual([
    'twinfleet_twins_broker_outages_total{cause="own-stall"} 1',
    'twinfleet_twins_broker_outages_total{cause="broker"} 1',
  ]);
  metrics.close();
});
