/**
 * A run's watch on a broker outside its process (`--broker`, `--broker-process`): one plain client
 * that probes the broker (twins/broker-probe.ts: itself through the broker every 500 ms), so a broker
 * that stops answering while its sockets stay open (a frozen process, a hung host, a cut path) is told
 * lost after 5 s of silence. The run's own twins service probes nothing (fleet/setup.ts): this client
 * does it for the run, twins or not, and watches the presence of a twins service the run joined
 * (fleet/joined-watch.ts). A shard's watch client does the same with its clock probes
 * (fleet/shard-run.ts).
 */
import { randomBytes } from "node:crypto";
import { after, type Scheduler } from "../node/scheduler.js";
import type { NodeId, Prefix } from "../protocol/index.js";
import { type BrokerLogin, onRefusals, probeBroker, type TwinsServiceInfo } from "../twins/index.js";
import type { RefusalWatchable } from "./broker-outages.js";
import { askHeldEarly, earlyHeldLine, unansweredEarlyLine } from "./held-early.js";
import { FleetStartStoppedError } from "./ids-in-use.js";
import { askHeld, heldJudgement } from "./joined-held.js";
import { type JoinedLog, JoinedWatch } from "./joined-watch.js";
import { connectWatchClient } from "./shard-watch.js";

export interface BrokerProbe {
  /**
   * The probe client's connection: lost when it drops or the broker falls silent, back when heard
   * again; and each time the broker refuses its login (its reconnects during an outage: the run's
   * control login revoked, `--auth` reloaded), the broker's answer: why the broker is lost.
   */
  readonly watch: RefusalWatchable & {
    /** When the broker last sent the probe's client anything: a silence shows before it is told. */
    readonly lastHeardAt: number;
  };
  /** Resolves when the first probe comes back: from then on 5 s of silence tell the broker lost. */
  readonly heard: Promise<void>;
  /** The presence of the twins service the run joined, watched on the probe's client. */
  readonly joined?: JoinedWatch;
  /**
   * Asks the controller of the fleet which of `ids` it holds a twin of, for `joined`'s report
   * (fleet/joined-held.ts); nothing without a joined service, or with no controller on the broker.
   */
  askHeld(ids: readonly NodeId[]): Promise<void>;
  /**
   * The run cut short (SIGTERM, a second Ctrl-C) while askHeld waits: its wait ends at once, with the
   * answers come by then (`held.cutShort`, the rest unknown). A cut before it asks changes nothing:
   * a run cut short still asks, and says what the service held.
   */
  endAskHeld(): void;
  /**
   * Soon after the fleet registered, asks the same of the nodes of `ids` registered and warns of those
   * not held (fleet/held-early.ts), without waiting for the answer; askHeld waits for it first.
   */
  askHeldEarly(ids: readonly NodeId[], registered: ReadonlyMap<string, unknown>): void;
  close(): Promise<void>;
}

/**
 * Resolves once `heard` has (the probe's first echo) or `ms` have passed: a run's check of its ids
 * starts with the probe armed, so a broker that stops answering in it is told lost in 5 s, not at
 * the probe client's keepalive (15-22 s), past the check's wait.
 */
export function heardWithin(heard: Promise<void>, sched: Scheduler, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = after(sched, ms, resolve);
    void heard.then(() => {
      timer.cancel();
      resolve();
    });
  });
}

/** `work` (which never rejects), or less once `stop` is aborted. */
function untilStopped(work: Promise<void> | undefined, stop: AbortSignal): Promise<void> {
  if (work === undefined || stop.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      stop.removeEventListener("abort", done);
      resolve();
    };
    stop.addEventListener("abort", done);
    work.then(done, done);
  });
}

/** Where a run's probes go: its own topic under the fleet's prefix, apart from every other run's. */
function runProbeTopic(prefix: Prefix): string {
  return `${prefix}/run-probe/${randomBytes(6).toString("hex")}`;
}

export async function openBrokerProbe(
  url: string,
  login: BrokerLogin | undefined,
  prefix: Prefix,
  sched: Scheduler,
  error: (e: Error) => void,
  refused: (line: string) => void = () => {},
  joined?: { readonly service: TwinsServiceInfo; readonly log: JoinedLog },
  /** A run's stop while the client connects (up to 10 s on a broker that does not answer) ends it there. */
  stop?: AbortSignal,
): Promise<BrokerProbe> {
  const client = await connectWatchClient(url, login, stop).catch((e: unknown) => {
    if (stop?.aborted) throw new FleetStartStoppedError(stop.reason, "connecting the run's broker probe");
    throw e;
  });
  const probe = probeBroker(client, {
    sched,
    topic: runProbeTopic(prefix),
    whose: "the run's",
    error,
    unheard: refused,
  });
  const watch: RefusalWatchable & { readonly lastHeardAt: number } = {
    on: (event, listener) => probe.watch.on(event, listener),
    onRefused: (fn) => onRefusals(client, fn),
    get lastHeardAt() {
      return probe.watch.lastHeardAt;
    },
  };
  const joinedWatch = joined && new JoinedWatch(client, prefix, joined.service, sched, joined.log);
  let early: Promise<void> | undefined;
  let asking: AbortController | undefined; // askHeld's wait, while it waits
  return {
    watch,
    heard: probe.heard,
    ...(joinedWatch ? { joined: joinedWatch } : {}),
    askHeldEarly: (ids, registered) => {
      const controller = joinedWatch?.controller();
      if (joined === undefined || controller === undefined || early !== undefined) return;
      const up = ids.filter((id) => registered.has(id));
      early = askHeldEarly(client, prefix, controller, up, sched).then(
        (h) => {
          const line = earlyHeldLine(h, ids.length) ?? unansweredEarlyLine(h, prefix);
          if (line !== undefined) joined.log.warn(line);
        },
        () => {},
      );
    },
    askHeld: async (ids) => {
      const stop = new AbortController();
      asking = stop;
      await untilStopped(early, stop.signal);
      const controller = joinedWatch?.controller();
      if (joinedWatch === undefined || controller === undefined) return;
      const h = await askHeld(client, prefix, controller, ids, sched, stop.signal).finally(() => {
        asking = undefined;
      });
      joinedWatch.held = stop.signal.aborted && h.answered < h.asked ? { ...h, cutShort: true } : h;
      const j = heldJudgement(joinedWatch.held);
      if (j.fail !== undefined) joined?.log.warn(j.fail);
      if (j.unknown !== undefined)
        joined?.log.info(`which nodes the fleet's twins service holds: ${j.unknown}`);
    },
    endAskHeld: () => asking?.abort("cut"),
    close: async () => {
      probe.stop();
      await client.endAsync(true).catch(() => {});
    },
  };
}
