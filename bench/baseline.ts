/**
 * The raw baseline for the overhead benchmark: plain MQTT.js clients running the protocol's node core
 * (CoreClient — no device model, no link model, no worker threads) with the same pairing, seeded
 * Poisson presses at the same rate, and the same sync-latency tracker as a fleet run.
 */
import mqtt from "mqtt";
import seedrandom from "seedrandom";
import { CoreClient } from "../node/mqtt-node.js";
import { type NodeId, Prefix } from "../protocol/index.js";
import type { Summary } from "../sim/histogram.js";
import { SyncTracker } from "../sim/sync-tracker.js";
import { followersReach, type Pairing } from "../sim/topology.js";

export interface BaselineOptions {
  readonly url: string;
  readonly ids: readonly NodeId[];
  readonly pairing: Pairing;
  readonly ratePerNodePerMin: number;
  readonly durationS: number;
  readonly seed: string;
}

export interface BaselineResult {
  readonly presses: number;
  readonly deliveries: number;
  readonly lost: number;
  readonly sync: Summary;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runBaseline(o: BaselineOptions): Promise<BaselineResult> {
  const prefix = Prefix("tf");
  const admin = await mqtt.connectAsync(o.url);
  for (const [f, sources] of o.pairing) {
    await admin.publishAsync(`${prefix}/config/${f}`, `C1 1 ${sources.join(" ")}`, { retain: true, qos: 1 });
  }
  await admin.endAsync();

  const tracker = new SyncTracker(followersReach(o.pairing));
  const presses: (() => void)[] = [];
  const synced: Promise<void>[] = [];
  const clients = o.ids.map((id) => {
    const c = new CoreClient({
      url: o.url,
      core: { id, prefix, kind: "sim", profile: "mqttjs", firmware: "1.0.0", syncGraceMs: 1500 },
      now: () => performance.now(),
    });
    let pressAt: number | undefined;
    let last = "";
    c.on("output", (out) => {
      if (out.type !== "publish" || out.topic !== `${prefix}/report/${id}`) return;
      const st = c.state.stamp;
      const key = `${st.counter}@${st.origin}`;
      if (key === last) return;
      last = key;
      if (st.origin === id && pressAt !== undefined) {
        tracker.press({ node: id, stamp: st, at: pressAt });
        pressAt = undefined;
      } else {
        tracker.applied({ node: id, stamp: st, at: performance.now() });
      }
    });
    presses.push(() => {
      pressAt ??= performance.now();
      c.press();
    });
    synced.push(new Promise((resolve) => c.once("synced", resolve)));
    return c;
  });
  await Promise.all(clients.map((c) => c.start()));
  await Promise.all(synced);

  const until = performance.now() + o.durationS * 1000;
  const meanMs = 60_000 / o.ratePerNodePerMin;
  const timers = o.ids.map((id, i) => {
    const rand = seedrandom(`${o.seed}/baseline/${id}`);
    const next = (): NodeJS.Timeout =>
      setTimeout(
        () => {
          if (performance.now() > until) return;
          presses[i]?.();
          timers[i] = next();
        },
        -Math.log(1 - rand()) * meanMs,
      );
    return next();
  });
  await sleep(o.durationS * 1000 + 5000);
  for (const t of timers) clearTimeout(t);
  tracker.finish();
  await Promise.all(clients.map((c) => c.stop()));
  const c = tracker.counts();
  return { presses: c.presses, deliveries: c.deliveries, lost: c.lost, sync: tracker.latency.summary() };
}
