/**
 * A run's control login revoked on the broker mid-run (`--auth` reloaded): the run's probe is cut and
 * its reconnects refused. The outage carries the refusal as its cause, on the progress line and in
 * the summary, so that it does not read as a broker that died. Real sockets on port 0, the access
 * rules reloaded under the probe.
 */
import { afterEach, expect, it } from "vitest";
import { oneLoginBroker } from "../../broker/test/one-login.js";
import { BrokerOutages } from "../../fleet/broker-outages.js";
import { openBrokerProbe } from "../../fleet/broker-probe.js";
import type { BrokerOutageReport } from "../../fleet/report.js";
import { FakeScheduler } from "../../node/scheduler.js";
import { Prefix } from "../../protocol/index.js";
import { when } from "../../twins/test/poll.js";
import { outageLines } from "../sim-summary.js";

let cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

it("gives the outage the broker's refusal of the run's login as its cause, and the summary says so", async () => {
  const site = await oneLoginBroker("run", "pw-run");
  const { broker } = site;
  cleanup.push(() => broker.close());
  const sched = new FakeScheduler(0);
  const login = { username: "run", password: "pw-run" };
  const probe = await openBrokerProbe(broker.url, login, Prefix("tf"), sched, () => {});
  cleanup.push(() => probe.close());
  const outages = new BrokerOutages([undefined, probe.watch], () => sched.now());

  await site.revoke();
  await when(() => broker.figures.tally.refused["bad-login"] >= 1);
  await when(() => outages.progress().brokerRefused !== undefined);
  expect(outages.progress()).toEqual({ brokerLostS: 0, brokerRefused: "bad user name or password" });
  await site.restore();
  await when(() => outages.downS() === undefined);
  const [span, ...more] = outages.list(sched.now());
  expect(more).toEqual([]);
  expect(span).toMatchObject({ back: true, refused: "bad user name or password" });
  const report: BrokerOutageReport = {
    ...(span as NonNullable<typeof span>),
    atMs: 6200,
    durationMs: 32_400,
    nodes: 30,
    disconnected: 0,
    recoveryMs: 0,
    reregisteredMaxMs: 0,
    offlineDetectedMaxMs: null,
    pressesDuring: 21,
    lateBeyond5s: 0,
    lostForGood: 0,
  };
  expect(outageLines([report])).toContain(
    "\n       login refused  the broker refused the run's login while it was lost (bad user name or password): the login was revoked or changed there (--auth reloaded?), not a broker that died",
  );
});
