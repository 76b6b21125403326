/**
 * Another client with the fleet's client ids on the broker (a second fleet, a board flashed with the
 * same id): a run that would start beside it is refused, naming the ids, once they have had a
 * keepalive's time to go offline (a machine that lost power a moment ago); one that starts anyway
 * (`fresh`) finds the node whose session keeps being taken over and says so in the progress line,
 * the log, the report, the summary and `--assert`'s failures.
 */
import mqtt from "mqtt";
import { pino } from "pino";
import { afterEach, beforeEach, expect, it } from "vitest";
import { DEFAULT_STALE_WILL_GRACE_MS } from "../../broker/stale-wills.js";
import { type BrokerHost, openBrokerHost } from "../../fleet/broker-host.js";
import { FleetIdsInUseError, offlineWaitMs } from "../../fleet/ids-in-use.js";
import { requirementFailures } from "../../fleet/report.js";
import { FleetRun } from "../../fleet/run.js";
import { ShardRun } from "../../fleet/shard-run.js";
import { idleShard } from "../../fleet/test/idle-shard.js";
import { loadProfile } from "../../node/profile.js";
import { RealScheduler } from "../../node/scheduler.js";
import { SimSource } from "../../view/sim-source.js";
import { progressLine, summary } from "../sim-summary.js";

let broker: BrokerHost;
let other: mqtt.MqttClient | undefined;

beforeEach(async () => {
  broker = await openBrokerHost({ logger: pino({ level: "silent" }), scheduler: new RealScheduler() });
  // n-0001 of another fleet: online (its status retained, its will the offline one), and back
  // 100 ms after any connection takes its session over.
  other = await mqtt.connectAsync(broker.url, {
    clientId: "tf-n-0001",
    reconnectPeriod: 100,
    will: { topic: "tf/status/n-0001", payload: Buffer.from("T1 0"), qos: 1, retain: true },
  });
  other.on("connect", () => other?.publish("tf/status/n-0001", "T1 1", { qos: 1, retain: true }));
  await other.publishAsync("tf/status/n-0001", "T1 1", { qos: 1, retain: true });
});

afterEach(async () => {
  await other?.endAsync(true);
  await broker.close();
});

// A keepalive of 1 s: ids online are given 1.5 × 1 s + 1 s to go offline before the run is refused.
const fleet = (fresh: boolean) => ({ ...idleShard(broker.url, 1), fresh });

/** The run, or what FleetRun.start threw; a run that started is cut and its report awaited. */
async function tryStart(fresh: boolean): Promise<unknown> {
  const got = await FleetRun.start(fleet(fresh)).catch((e: unknown) => e);
  if (got instanceof FleetRun) {
    got.cut();
    await got.done;
  }
  return got;
}

it("refuses a fleet whose ids stay online on the broker, naming them", async () => {
  const got = await tryStart(false);
  expect(got).toBeInstanceOf(FleetIdsInUseError);
  expect((got as Error).message).toContain(
    `1 of this fleet's 4 node ids are online on ${broker.url} (prefix tf: n-0001) and stayed online for 2.5 s: another fleet or a board is connected with them`,
  );
});

it("starts once ids online go offline within the wait (a fleet that just ended)", async () => {
  const started = tryStart(false);
  setTimeout(() => {
    const o = other;
    other = undefined;
    void o?.publishAsync("tf/status/n-0001", "T1 0", { qos: 1, retain: true }).then(() => o.endAsync());
  }, 500);
  expect(await started).toBeInstanceOf(FleetRun);
});

it("refuses a shard whose ids stay online on the broker, naming them", async () => {
  // Shard 2 of 2 runs n-0001 and n-0003.
  const { done } = ShardRun.run(fleet(false), { index: 2, count: 2 }, new RealScheduler());
  const got = await done.catch((e: unknown) => e);
  expect(got).toBeInstanceOf(FleetIdsInUseError);
  expect((got as Error).message).toContain(
    `1 of this shard's 2 node ids are online on ${broker.url} (prefix tf: n-0001) and stayed online for 2.5 s`,
  );
});

it("finds the node whose session another client keeps taking over, and says so", async () => {
  const run = await FleetRun.start(fleet(true));
  const source = new SimSource(run);
  const logged: string[] = [];
  run.on("log", (line, level) => logged.push(`${level} ${line}`));
  await new Promise<void>((resolve) => {
    const check = () =>
      run.progress().clashes === 1 ? resolve() : run.sched.at(run.sched.now() + 50, check);
    check();
  });
  const line = progressLine(run.progress(), run.sched.now());
  // The console's and the page's fault indicator.
  expect(source.faults()).toContainEqual({ what: "ids in use: 1 nodes", since: expect.any(Number) });
  source.close();
  run.cut();
  const r = await run.done;
  expect(line).toMatch(/IDS IN USE 1/);
  expect(logged).toEqual([
    expect.stringMatching(
      /^error n-0001: the broker closed its session 3 times in \d+\.\d s while it stayed up: another client is connecting with its client id tf-n-0001/,
    ),
  ]);
  expect(r.sessionClashes).toMatchObject({ nodes: 1, ids: ["n-0001"] });
  expect(r.sessionClashes?.closes).toBeGreaterThanOrEqual(3);
  expect(summary(r)).toMatch(
    /FAIL ids in use {4}1 nodes' sessions taken over by another client with the same id, \d+ times \(n-0001\)/,
  );
  expect(requirementFailures(r)).toContainEqual(
    expect.stringMatching(/^1 nodes' sessions were taken over again and again/),
  );
});

it("a broker restarted on its data directory publishes the previous run's wills within the wait a fleet gives its ids", () => {
  // A whole host's power cut: the broker and the fleet restart together, the nodes' retained statuses
  // still say online; the fleet waits offlineWaitMs for them, the broker publishes their wills after
  // its grace (broker/stale-wills.ts). A grace past the wait made the fleet refuse its own ids.
  const keepaliveS = loadProfile("uno-w5100").mqtt.keepaliveS;
  expect(DEFAULT_STALE_WILL_GRACE_MS).toBeLessThan(offlineWaitMs(keepaliveS));
});

/**
 * A twins service's connection `clientId`, its presence (`P1 <sinceMs>`) retained and its will the
 * presence's clear, as a service keeps it; not reconnecting once lost.
 */
async function twinsPresence(clientId: string, sinceMs: number): Promise<mqtt.MqttClient> {
  const topic = `tf/control/${clientId}`;
  const c = await mqtt.connectAsync(broker.url, {
    clientId,
    reconnectPeriod: 0,
    will: { topic, payload: Buffer.alloc(0), qos: 1, retain: true },
  });
  await c.publishAsync(topic, `P1 ${sinceMs}`, { qos: 1, retain: true });
  return c;
}

/** `twins` and the other fleet's node gone as by their broker's keepalive after a power cut: their wills, no DISCONNECT. */
function loseWithOther(twins: mqtt.MqttClient): void {
  const o = other;
  other = undefined;
  o?.stream.destroy();
  o?.end(true);
  twins.stream.destroy();
  twins.end(true);
}

it("takes control itself when the twins service found went down with the fleet (their host lost power)", async () => {
  // A twins service of the run that lost power: its presence retained, its will the presence's clear.
  const dead = await twinsPresence("tf-twins-dead", 1796400000000);
  // Both go as by their broker's keepalive after the power cut (their wills, no DISCONNECT), once
  // the run waits for its ids.
  const goneTogether = () => loseWithOther(dead);
  const logger = pino(
    { level: "warn" },
    { write: (line: string) => (line.includes("waiting up to") ? goneTogether() : undefined) },
  );
  const run = await FleetRun.start(fleet(false), logger);
  expect(run.joined).toBeUndefined();
  run.cut();
  await run.done;
});

it("joins the live twins service when the one found first went down with the fleet, rather than control the fleet beside it", async () => {
  // The service that lost power with the fleet (its presence retained), and one running elsewhere,
  // started again (another client id, sorted after the dead one's): both found by the run.
  const dead = await twinsPresence("tf-twins-dead", 1796400000000);
  const live = await twinsPresence("tf-twins-live", 1796400060000);
  const goneTogether = () => loseWithOther(dead);
  const lines: string[] = [];
  const logger = pino(
    { level: "warn" },
    {
      write: (line: string) => {
        lines.push(line);
        if (line.includes("waiting up to")) goneTogether();
      },
    },
  );
  const run = await FleetRun.start(fleet(false), logger);
  expect(run.joined?.clientId).toBe("tf-twins-live");
  expect(lines.join("")).toContain(
    "the twins service tf-twins-dead found on the broker has gone (its presence was left by a run that lost power): this run joins tf-twins-live, which controls the fleet",
  );
  run.cut();
  await run.done;
  await live.endAsync();
});
