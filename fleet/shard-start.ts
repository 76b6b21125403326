/**
 * A shard's start, up to the boot of its nodes (fleet/shard-run.ts): its watch client's connect, its
 * clock probe, `--fresh`'s clearing of its nodes' retained messages, its watch of the fleet, the wait
 * for its ids in use to go offline, its claim on them and the write of its nodes' pairing configs.
 * Each step that waits on the broker ends at
 * the shard's stop, with a FleetStartStoppedError naming it (`stopped while <step>: nothing ran`):
 * a broker that accepted the connection and then answered nothing held a stop during the probe's or
 * the watch's subscription, or the clearing, until its keepalive ran out (exit 1), or for ever with
 * its pings answered; a stop during the configs' write did too, after the shard had said it would
 * write its report.
 */
import type mqtt from "mqtt";
import type { Scheduler, Timer } from "../node/scheduler.js";
import type { StallWatch } from "../node/stall-watch.js";
import type { NodeId, Prefix } from "../protocol/index.js";
import type { Pairing } from "../sim/topology.js";
import { displayUrl, onRefusals, SILENCE_MS, watchConnection } from "../twins/index.js";
import { nodesBrokerAt } from "./broker-address.js";
import { BrokerOutages } from "./broker-outages.js";
import { claimFleet, type FleetClaim } from "./fleet-claim.js";
import {
  BrokerSilences,
  offlineWaitMs,
  refuseIdsInUse,
  registryPresence,
  stoppedWhile,
  unlessStopped,
} from "./ids-in-use.js";
import type { ResolvedFleetOptions } from "./options.js";
import { connectionErrorLine } from "./shard-connection-error.js";
import type { ShardRunHooks } from "./shard-hooks.js";
import { wideClockLine } from "./shard-offsets.js";
import type { ShardSpec } from "./shard-plan.js";
import { ClockProbe, probeTopic } from "./shard-probe.js";
import { clearRetained, writeConfigs } from "./shard-retained.js";
import { connectWatchClient, FleetWatch } from "./shard-watch.js";

/** What the start opened, as it opens it: the shard closes it however the start ended. */
export interface ShardOpened {
  client?: mqtt.MqttClient;
  probe?: ClockProbe;
  claim?: FleetClaim;
}

export interface ShardStartContext {
  readonly opts: ResolvedFleetOptions;
  readonly spec: ShardSpec;
  readonly sched: Scheduler;
  /** The date its records' clock reads 0 at, and how far that may be from the host's (node/scheduler.ts). */
  readonly zero: { readonly dateMs: number; readonly boundMs: number };
  readonly prefix: Prefix;
  /** This shard's own nodes. */
  readonly mine: readonly NodeId[];
  /** The fleet's pairing: its nodes' retained configs are written last. */
  readonly pairing: Pairing;
  readonly keepaliveS: number;
  readonly note: (line: string) => void;
  readonly stalls: StallWatch | undefined;
  /** The shard's timers, cancelled at its end. */
  readonly timers: Timer[];
  /** The shard's stop: ends the start at once. */
  readonly signal: AbortSignal;
  /** Told each step as it begins (fleet/start-control.ts); its nodes' broker name's lookup and period. */
  readonly hooks?: Pick<ShardRunHooks, "step" | "lookup" | "nameCheckMs">;
}

/** Runs the start; what it opened is in `opened` as soon as it is. */
export async function startShard(c: ShardStartContext, opened: ShardOpened) {
  const { opts, spec, sched, prefix, mine, note, stalls, timers, signal } = c;
  const url = opts.broker as string;
  const step = (what: string) => c.hooks?.step?.(what);
  // A clock dated only roughly: every latency across shards that rests on it carries that much.
  const wide = wideClockLine(c.zero.boundMs);
  if (wide !== undefined) note(wide);
  step("connecting the shard's watch client to the broker");
  const connecting = stoppedWhile(signal, "connecting the shard's watch client");
  const client = await connectWatchClient(url, opts.login, signal).catch(connecting);
  opened.client = client;
  // Silence means something once a probe has come back (a broker whose rules refuse the topic).
  let probe: ClockProbe | undefined;
  const connection = watchConnection(
    client,
    () => sched.now(),
    (e) => note(connectionErrorLine(e, stalls?.explaining(sched.now()))),
    { sched, afterMs: SILENCE_MS, timers, armed: () => probe?.heardBack === true },
  );
  const outages = new BrokerOutages(connection, () => sched.now(), undefined, stalls);
  // The broker's silences (stopped, hung) are no time its ids stayed online: it publishes no will.
  const silences = new BrokerSilences(connection, () => sched.now());
  // A login the broker refuses during an outage (revoked mid-run): the outage's cause.
  onRefusals(client, (why) => outages.refused(why));
  probe = new ClockProbe(
    client,
    {
      mine: probeTopic(opts.prefix, opts.seed, spec.index),
      all: probeTopic(opts.prefix, opts.seed, "+"),
    },
    spec.index,
    sched,
    c.zero.dateMs,
    c.zero.boundMs,
  );
  opened.probe = probe;
  step("starting the shard's clock probe");
  await unlessStopped(probe.start(), signal, "starting the shard's clock probe");
  if (opts.fresh) {
    step("clearing the shard's retained state (--fresh)");
    await clearRetained(client, prefix, mine, signal);
  }
  step("subscribing to the fleet's topics");
  const watch = await unlessStopped(
    FleetWatch.open(client, prefix, sched),
    signal,
    "subscribing to the fleet's topics",
  );
  // Its ids online already (another fleet, a board): each connection would take the other's over.
  const target = { url, login: opts.login, prefix }; // for the twins service's looks
  const where = { url: displayUrl(url), prefix, fleet: mine.length, whose: "this shard's" };
  const waitMs = offlineWaitMs(c.keepaliveS);
  const presence = registryPresence(watch.registry);
  // Offline, its ids are claimed as a one-process run claims them (fleet/fleet-claim.ts): of two
  // fleets started together, the shard whose claim the broker took second gives way.
  const claimed = { url, ...(opts.login ? { login: opts.login } : {}), prefix, ids: mine, waitMs };
  step(`checking that the shard's ${mine.length} ids are offline on the broker`);
  await refuseIdsInUse(where, mine, presence, waitMs, sched, note, signal, stalls, silences);
  step(`claiming the shard's ${mine.length} ids on the broker`);
  opened.claim = await claimFleet(
    { ...claimed, keepaliveS: c.keepaliveS, fresh: opts.fresh, whose: where.whose, silences },
    sched,
    note,
    signal,
  );
  // Paired before they boot; a stop here says how many configs the broker had acknowledged.
  step(`writing the pairing configs of the shard's ${mine.length} nodes`);
  await writeConfigs(client, watch, prefix, mine, c.pairing, signal);
  // The nodes' broker name looked up once, as a board is given the address (fleet/broker-address.ts).
  const say = { info: note, warn: note };
  const at = await nodesBrokerAt(url, [connection], say, c.hooks?.lookup, sched, c.hooks?.nameCheckMs);
  const moves = at.moves;
  if (moves !== undefined) timers.push({ cancel: () => moves.stop() });
  return { client, outages, probe, watch, claim: opened.claim, target, at };
}
