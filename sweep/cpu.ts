/**
 * The paper's CPU table, modeled: one node paired both ways with a second one, on the in-memory
 * broker in fake time, for each use case (normal press, spam press, spammed notifications) at each
 * loss level. The CPU figures are the device model's (docs/device-model.md), measured over the cases'
 * modeled minutes after the nodes have synced; fake time makes them exact and independent of the host.
 */

import { FakeScheduler, type NodeEvent, SimNode } from "../node/index.js";
import type { DeviceProfile } from "../node/profile.js";
import { assertNever, encode, NodeId, Prefix, topicOf } from "../protocol/index.js";
import { MemoryBroker } from "../sim/memory-broker.js";

export const CPU_CASES = ["normal press", "spam press", "spammed notifications"] as const;
export type CpuCase = (typeof CPU_CASES)[number];

/** The paper's table (its "Spammed Notifications" row gives no loss level). */
export const PAPER_CPU: readonly {
  readonly case: CpuCase;
  readonly lossPct: number | null;
  readonly pct: number;
}[] = [
  { case: "normal press", lossPct: 0, pct: 26 },
  { case: "normal press", lossPct: 25, pct: 28 },
  { case: "spam press", lossPct: 0, pct: 35 },
  { case: "spam press", lossPct: 25, pct: 41 },
  { case: "spammed notifications", lossPct: null, pct: 39 },
];

export interface CpuParams {
  readonly minutes: number;
  readonly normalPressPerMin: number;
  readonly spamPressPerSec: number;
  readonly spamNotificationsPerSec: number;
}

export interface CpuRow {
  readonly case: CpuCase;
  readonly lossPct: number;
  /** (work + blocked) / elapsed, in percent. */
  readonly utilizationPct: number;
  /** (work + blocked + idle polls) / elapsed, in percent. */
  readonly withPollingPct: number;
  readonly workCycles: number;
  readonly blockedCycles: number;
  readonly pollCycles: number;
  readonly elapsedCycles: number;
  /** Presses at the measured node and state commands it was sent, over the measured minutes. */
  readonly presses: number;
  readonly notifications: number;
  readonly packetsIn: number;
  readonly packetsOut: number;
  readonly retransmissions: number;
  readonly reconnects: number;
  /** The paper's figure for this case and loss, or null. */
  readonly paperPct: number | null;
}

const WARMUP_MS = 10_000;
const PREFIX = Prefix("tf");

/** Runs one case at one loss level; `profile` is the (possibly overridden) device profile. */
export function runCpuCase(
  profile: DeviceProfile,
  kase: CpuCase,
  lossPct: number,
  params: CpuParams,
  seed: string,
): CpuRow {
  const sched = new FakeScheduler();
  const broker = new MemoryBroker(sched);
  const loss = lossPct > 0 ? ({ kind: "bernoulli", p: lossPct / 100 } as const) : ({ kind: "none" } as const);
  let presses = 0;
  const sink = (e: NodeEvent) => {
    if (e.type === "press" && e.node === "n-0000" && e.at >= WARMUP_MS) presses++;
  };
  const [a, b] = ["n-0000", "n-0001"].map(
    (id) =>
      new SimNode({
        id,
        seed: `${seed}/${kase}/${lossPct}`,
        loss,
        profile,
        sched,
        wire: broker.wire(),
        sink,
      }),
  ) as [SimNode, SimNode];
  a.start(0);
  b.start(0);
  sched.runUntil(WARMUP_MS / 2);
  // Pair them both ways, as the control server would.
  for (const [node, source] of [
    [a, b],
    [b, a],
  ] as const) {
    const m = encode(PREFIX, { kind: "subscribe", node: node.id, source: source.id });
    broker.publish(m.topic, m.payload, { qos: 1 });
  }
  sched.runUntil(WARMUP_MS);
  const end = WARMUP_MS + params.minutes * 60_000;
  const normal = {
    kind: "poisson",
    ratePerSec: params.normalPressPerMin / 60,
    from: WARMUP_MS,
    until: end,
  } as const;
  b.addPresses(normal);
  let notifications = 0;
  switch (kase) {
    case "normal press":
      a.addPresses(normal);
      break;
    case "spam press":
      a.addPresses({ kind: "poisson", ratePerSec: params.spamPressPerSec, from: WARMUP_MS, until: end });
      break;
    case "spammed notifications": {
      // A plain client sending set commands at a fixed rate, QoS 0, alternating on and off.
      const every = 1000 / params.spamNotificationsPerSec;
      const topic = topicOf(PREFIX, "state", NodeId(a.id));
      const next = (t: number) => {
        if (t >= end) return;
        sched.at(t, () => {
          notifications++;
          broker.publish(topic, `S1 ${notifications % 2} 0`, { qos: 0 });
          next(t + every);
        });
      };
      next(WARMUP_MS);
      break;
    }
    default:
      assertNever(kase);
  }
  const before = a.stats();
  sched.runUntil(end);
  const after = a.stats();
  a.stop();
  b.stop();
  const d = (k: "workCycles" | "blockedCycles" | "pollCycles" | "elapsedCycles") =>
    after.cpu[k] - before.cpu[k];
  const elapsed = d("elapsedCycles");
  const busy = d("workCycles") + d("blockedCycles");
  const paper = PAPER_CPU.find((p) => p.case === kase && (p.lossPct === null || p.lossPct === lossPct));
  return {
    case: kase,
    lossPct,
    utilizationPct: (busy / elapsed) * 100,
    withPollingPct: ((busy + d("pollCycles")) / elapsed) * 100,
    workCycles: d("workCycles"),
    blockedCycles: d("blockedCycles"),
    pollCycles: d("pollCycles"),
    elapsedCycles: elapsed,
    presses,
    notifications,
    packetsIn: after.mqtt.packetsIn - before.mqtt.packetsIn,
    packetsOut: after.mqtt.packetsOut - before.mqtt.packetsOut,
    retransmissions:
      after.link.up.retransmissions +
      after.link.down.retransmissions -
      before.link.up.retransmissions -
      before.link.down.retransmissions,
    reconnects: after.mqtt.reconnects - before.mqtt.reconnects,
    paperPct: paper?.pct ?? null,
  };
}

/** Every case at every loss level, in table order. */
export function runCpuTable(
  profile: DeviceProfile,
  lossPct: readonly number[],
  params: CpuParams,
  seed: string,
): CpuRow[] {
  return CPU_CASES.flatMap((k) => lossPct.map((l) => runCpuCase(profile, k, l, params, seed)));
}
