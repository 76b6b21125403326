/**
 * A modelled broker beside a service's registry, its wait for the replay's end (twins/replay-end.ts),
 * PutBack and BrokerRestart on a fake clock, for the tests of what is judged at the replay's end
 * (twins/put-back.ts, twins/origin-wait.ts, twins/broker-copy.ts): what the service puts back is written there and comes back to
 * it live; with `marker`, the broker marks its replay's end as a broker in order does
 * (twins/replay-marker.ts), when told to; with `cut`, the connection's check of a cut replay
 * (twins/replay-cut.ts), whose unread topics the look is told of.
 */
import { pino } from "pino";
import { FakeScheduler } from "../../node/scheduler.js";
import { decode, encode, formatStamp, Prefix } from "../../protocol/index.js";
import { BrokerRestart, START_ID_TOPIC } from "../broker-restart.js";
import type { RegistryEffect } from "../effects.js";
import { PutBack } from "../put-back.js";
import { TwinRegistry } from "../registry.js";
import type { ReplayCut } from "../replay-cut.js";
import { ReplayEnd } from "../replay-end.js";

/**
 * A service's registry, PutBack and BrokerRestart on a fake clock, beside a broker's retained
 * reports: what the service puts back is written there and comes back to it live, as from a broker.
 */
export function rig(opts: { readonly marker?: boolean; readonly cut?: ReplayCut } = {}) {
  const scheduler = new FakeScheduler();
  const r = new TwinRegistry(Prefix("tf"));
  const restart = new BrokerRestart(scheduler, () => {});
  const held = new Map<string, string>(); // the broker's retained reports, by topic
  const sent: string[] = [];
  const applied: RegistryEffect[] = [];
  /** The marker under way is back (its round trip); unset while none is. */
  let markerBack: (() => void) | undefined;
  const replayMarker = opts.marker
    ? {
        roundTrip: () => {
          const sentAt = scheduler.now();
          return new Promise<number | undefined>((resolve) => {
            markerBack = () => resolve(scheduler.now() - sentAt);
          });
        },
      }
    : undefined;
  // The service's one wait for the replay's end; at it, the registry judges what it held (origins, configs).
  const end = new ReplayEnd(scheduler, replayMarker, () => applied.push(...r.replayOver()));
  const putBack = new PutBack(
    r,
    { logger: pino({ level: "silent" }), passive: false, scheduler, prefix: Prefix("tf") },
    async (m) => {
      if (m.kind !== "report") return;
      sent.push(`${m.node} ${formatStamp(m.stamp)}`);
      // The broker keeps the put-back and sends it back at once, live.
      scheduler.at(scheduler.now() + 1, () =>
        publish(`tf/report/${m.node}`, encode(Prefix("tf"), m).payload),
      );
    },
    end,
    undefined,
    { restart, ...(opts.cut !== undefined && { replayMarker: { cut: opts.cut } }) },
    (fx) => applied.push(...fx),
  );
  const deliver = (topic: string, payload: string, retained: boolean) => {
    if (retained) end.replayed();
    for (const e of r.receive(topic, payload, 1, scheduler.now(), retained))
      if (e.type === "put-back") putBack.one(e.node);
  };
  /** A write on the broker: kept, and sent to the service live. */
  const publish = (topic: string, payload: string) => {
    held.set(topic, payload);
    deliver(topic, payload, false);
  };
  /** The service (re)connects to the broker whose start id is `startId` (none: it says nothing of its starts), and subscribes. */
  const connect = (startId: string | undefined) => {
    restart.connected();
    r.brokerSession();
    if (startId !== undefined) restart.message(START_ID_TOPIC, Buffer.from(startId));
    end.begin(); // the last SUBACK
    putBack.all();
  };
  /** The broker replays `topic`'s retained report as it holds it now (its store read), `afterMs` from now. */
  const replay = (afterMs: number, topic: string) => {
    const payload = held.get(topic);
    scheduler.at(scheduler.now() + afterMs, () => {
      if (payload !== undefined) deliver(topic, payload, true);
    });
  };
  const stampOf = (topic: string) => {
    const m = decode(Prefix("tf"), topic, held.get(topic) ?? "", 1);
    return m.kind === "report" ? formatStamp(m.stamp) : undefined;
  };
  /** The broker sends the marker back `afterMs` from now (after the replays it sent before). */
  const marker = (afterMs: number) =>
    scheduler.at(scheduler.now() + afterMs, () => {
      markerBack?.();
      markerBack = undefined;
    });
  /** The fake clock `ms` on, the promises settling every 10 ms (the marker's round trip is one). */
  const run = async (ms: number) => {
    for (let t = 0; t < ms; t += 10) {
      scheduler.advance(Math.min(10, ms - t));
      for (let i = 0; i < 10; i++) await Promise.resolve();
    }
  };
  return {
    scheduler,
    r,
    restart,
    held,
    sent,
    applied,
    putBack,
    end,
    replayMarker,
    publish,
    connect,
    replay,
    marker,
    run,
    stampOf,
  };
}

/** Both nodes reported through a first connection; the service then stopped while they pressed on. */
export function afterOwnPause(startIdAgain: string | undefined, opts: { readonly marker?: boolean } = {}) {
  const x = rig(opts);
  x.connect("run-1");
  x.publish("tf/report/A", "R1 1 5 A");
  x.publish("tf/report/B", "R1 1 6 B");
  x.scheduler.advance(60_000);
  // Stopped: the broker cut the service on its keepalive; the nodes' presses reached only the broker.
  x.held.set("tf/report/A", "R1 0 40 A");
  x.held.set("tf/report/B", "R1 0 41 B");
  x.connect(startIdAgain);
  return x;
}
