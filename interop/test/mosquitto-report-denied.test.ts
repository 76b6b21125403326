// A fleet run on a Mosquitto whose ACL lets no node write its report: Mosquitto acknowledges each
// report and drops it, so the nodes register and the twins service never hears their state. The
// summary said "had no failed attempt recorded (connected but never registered with the twins
// service, or never tried)"; it now says the reports never arrived, and what to check.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { notRegisteredWhy } from "../../cli/sim-summary.js";
import { runFleet } from "../../fleet/run.js";
import { type Mosquitto, startMosquitto } from "../mosquitto.js";

// Anonymous clients (the lines before any `user`): everything under tf/ but writing reports.
const ACL = [
  ...["config", "status", "register", "state", "subscribe", "unsubscribe", "control", "control-probe"].map(
    (t) => `topic readwrite tf/${t}/#`,
  ),
  ...["twins-probe", "run-probe"].map((t) => `topic readwrite tf/${t}/#`),
  "topic readwrite tf/query",
  "topic read tf/report/#",
];

let broker: Mosquitto;
beforeAll(async () => {
  broker = await startMosquitto({ acl: ACL });
});
afterAll(async () => {
  await broker?.close();
});

describe("a Mosquitto ACL that denies the nodes' report writes", () => {
  it("the run says the nodes registered but none of their reports arrived", async () => {
    const r = await runFleet({
      broker: broker.url,
      nodes: 6,
      durationS: 1,
      settleS: 1,
      ratePerNodePerMin: 0,
      groupSize: 3,
      workers: 1,
    });
    expect(r.registration.registered).toBe(0);
    expect(r.registration.notRegistered?.lastConnectFailure).toEqual({ "no-report": 6 });
    const why = notRegisteredWhy(
      r.registration.notRegistered ?? { nodes: 0, first: [], lastConnectFailure: {} },
    );
    expect(why).toMatch(
      /^6 registered, but none of their reports reached the twins service: does the broker let each node write/,
    );
  }, 90_000);
});
