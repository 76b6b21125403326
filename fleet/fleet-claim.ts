/**
 * A fleet's claim on its ids, between the check that they are offline (fleet/ids-in-use.ts) and the
 * boot of its nodes. Two runs started together on one broker both found the ids offline and both
 * booted, each then taking the other's sessions over. So a run that found its ids offline publishes
 * a claim (retained, `<prefix>/claim/<token>`, the ids in it) and reads the claims held: of two
 * runs, the one whose claim the broker took second sees the other's as older than its own, and gives
 * way, waiting as for ids online (a run that just ended) before it is refused. The order is the one
 * the claims were passed on live: brokers sharing Redis read a subscription's retained claims apart
 * from the live ones, so a retained copy may come after the live one, or after the claim's removal.
 * The claim is held for the whole run and cleared at its end (fleet/claim-hold.ts, which takes it
 * back after its connection was lost: a broker restarted, a run frozen); the claim's connection has
 * a will that clears it, so a run killed (at once) or cut off (after 1.5 × the keepalive) leaves none.
 * A claim passed back, then cleared before this step finished (in its wait for another run's claim
 * as well), is published again (10 tries at most in the step) and kept as a loss held again; one
 * never passed back (access rules dropping it) is waited for 10 s.
 */
import { randomBytes } from "node:crypto";
import type mqtt from "mqtt";
import type { IClientOptions } from "mqtt";
import type { Scheduler } from "../node/scheduler.js";
import { afterRunning, stallWatchOf } from "../node/stall-watch.js";
import type { NodeId, Prefix } from "../protocol/index.js";
import { type BrokerLogin, connectClient, displayUrl, loginOptions } from "../twins/index.js";
import {
  type ClaimLink,
  type ClaimLoss,
  type ClaimNotHeld,
  type ClaimSay,
  clearClaim,
  type FleetClaim,
  holdClaim,
  RECLAIM_RETRY_MS,
} from "./claim-hold.js";
import { claimedOf, encodeClaimIds } from "./claim-ids.js";

export type { FleetClaim } from "./claim-hold.js";

import {
  type BrokerSilences,
  FleetIdsInUseError,
  FleetStartStoppedError,
  type LeftOut,
  leftOutOf,
} from "./ids-in-use.js";
import { retainedSettled } from "./waits.js";

export interface ClaimOptions {
  readonly url: string;
  readonly login?: BrokerLogin;
  readonly prefix: Prefix;
  readonly ids: readonly NodeId[];
  /** The claim's keepalive: the nodes', so a claim outlives a run cut off no longer than its nodes' statuses. */
  readonly keepaliveS: number;
  /** How long other claims on the ids are given to go before the run is refused (offlineWaitMs). */
  readonly waitMs: number;
  /** `--fresh`: other claims are cleared, not waited for. */
  readonly fresh?: boolean;
  readonly whose?: string;
  /** The claim's token; random unless given. */
  readonly token?: string;
  /**
   * The broker's silences a probe of it tells: no time another run's claim stayed, as a broker that
   * answers nothing passes on no clear and publishes no will (fleet/ids-in-use.ts).
   */
  readonly silences?: BrokerSilences;
}

/** How long the run waits for the broker to pass its own claim back before it goes on without one. */
export const CLAIM_ECHO_MS = 10_000;

/** How many times a claim cleared before the claim step finished is published again before the run goes on without one. */
export const CLAIM_REPUBLISH_TRIES = 10;

export const claimTopic = (prefix: Prefix, token: string): string => `${prefix}/claim/${token}`;

/**
 * Claims `ids` on the broker. Resolves to the claim once no other claim on any of them is held;
 * other claims seen are given `waitMs` to go (a run that just ended or lost power), then the run is
 * refused with a FleetIdsInUseError naming the ids claimed, its own claim withdrawn.
 */
export async function claimFleet(
  o: ClaimOptions,
  scheduler: Scheduler,
  warn: ClaimSay,
  stop?: AbortSignal,
): Promise<FleetClaim> {
  const token = o.token ?? randomBytes(6).toString("hex");
  const mine = claimTopic(o.prefix, token);
  // Settled however the connection goes: a broker that closed it at once (at its open-files limit)
  // used to leave the run waiting here for ever, before its first line, deaf to its stops.
  const options: IClientOptions = {
    clientId: `${o.prefix}-claim-${token}`,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    keepalive: o.keepaliveS,
    will: { topic: mine, payload: Buffer.alloc(0), qos: 1, retain: true },
    ...loginOptions(o.login),
  };
  let client: mqtt.MqttClient;
  try {
    client = await connectClient(o.url, options, stop);
  } catch (e) {
    if (stop?.aborted) throw new FleetStartStoppedError(stop.reason, "connecting to the broker");
    throw e;
  }
  client.on("error", () => {});
  const body = JSON.stringify(encodeClaimIds(o.ids));
  const link: ClaimLink = { ...o, topic: mine, body, options };
  const close = () => clearClaim(link, client, scheduler);
  /** Other claims on any of the ids: their topic → the ids they share with this run's. */
  const others = new Map<string, NodeId[]>();
  let seenOwn = false;
  /** This run's claim passed back, then cleared on the broker before the claim step finished. */
  let ownCleared = false;
  /** This run's claim passed back live: the claims passed on live before it are older, those after younger. */
  let ownLive = false;
  /** Claims passed on live after this run's: younger, though a retained copy of them comes too. */
  const younger = new Set<string>();
  /** Claims removed: a copy that comes after is stale (a claim's token is its run's alone, claimed once). */
  const gone = new Set<string>();
  const listeners = new Set<() => void>();
  client.on("message", (topic, payload, packet) => {
    if (topic === mine) {
      ownCleared ||= seenOwn && payload.length === 0;
      seenOwn = payload.length > 0;
      ownLive ||= seenOwn && !packet.retain;
    } else if (payload.length === 0) {
      others.delete(topic);
      gone.add(topic);
    } else if (gone.has(topic) || younger.has(topic)) {
      // A retained copy read before the claim's removal, or of a claim passed on after this one.
    } else if (!packet.retain && ownLive) {
      // Passed on live after this run's claim: its run saw this one, and gives way. Its retained
      // copy (a cluster's members read a subscription's retained claims apart from the live ones:
      // docs/cluster.md) may have come first.
      younger.add(topic);
      others.delete(topic);
    } else {
      // Older than this run's claim: passed on live before it, or one the broker held when the
      // subscription was made (replayed, retained flag set), unless it turns out to have gone out after.
      const shared = claimedOf(payload, o.ids);
      if (shared.length > 0) others.set(topic, shared);
    }
    for (const f of listeners) f();
  });
  const listen = (f: () => void) => {
    listeners.add(f);
    return () => listeners.delete(f);
  };
  // The connection closed by the broker (a packet over its limit, a login its rules refuse) or a stop
  // ends each step of the claim: MQTT.js, not reconnecting, never settles a subscribe or a publish
  // then, and the run waited for ever before its first progress line, deaf to SIGTERM.
  const ended = new AbortController();
  const onClose = () =>
    ended.abort(
      new Error(
        `the broker at ${displayUrl(o.url)} closed the connection of the run's claim on its ${o.ids.length} ids (a ${Buffer.byteLength(body)}-byte retained message on ${mine}) before acknowledging it: see the broker's log for why (its packet limit, its access rules)`,
      ),
    );
  const onStop = () => ended.abort(new FleetStartStoppedError(stop?.reason, "claiming the fleet's ids"));
  client.once("close", onClose);
  if (stop?.aborted) onStop();
  else stop?.addEventListener("abort", onStop);
  const step = <T>(p: Promise<T>): Promise<T> =>
    Promise.race([
      p,
      new Promise<never>((_, reject) => {
        if (ended.signal.aborted) reject(ended.signal.reason);
        else ended.signal.addEventListener("abort", () => reject(ended.signal.reason), { once: true });
      }),
    ]);
  try {
    // The claims held first, then this one: the broker passes every claim on in the order it took
    // them, so of two runs exactly one, the one it took first, sees no older claim than its own.
    await step(client.subscribeAsync(`${o.prefix}/claim/+`, { qos: 1 }));
    await step(client.publishAsync(mine, body, { qos: 1, retain: true }));
    await step(retainedSettled(scheduler, listen));
    /** The claim cleared before the claim step finished and published again: a loss held again. */
    const earlier: ClaimLoss[] = [];
    /** Set once the claim, cleared in the claim step, was not passed back after the last try. */
    let notHeld: ClaimNotHeld | undefined;
    /** Publishes of the claim cleared in the claim step, all of its clears together. */
    let tries = 0;
    /** The run's claim passed back, then cleared, and not given up on: to publish again. */
    const ownGone = () => notHeld === undefined && !seenOwn && ownCleared;
    /**
     * Passed back, then cleared: the broker lets this login publish and read its claims, and something
     * on it cleared this one (another run's --fresh, a tool clearing retained messages). The run used
     * to wait 10 s for it to come back by itself and then start with no claim for the whole run; it
     * publishes it again, as the claim held mid-run does (fleet/claim-hold.ts), a try every
     * RECLAIM_RETRY_MS, CLAIM_REPUBLISH_TRIES at most in the whole step (a clearer that never stops,
     * 10 s). `when` says where in the step: cleared while the run waited for another run's claim to
     * go, it used to go unseen, and the run started believing it held its claim.
     */
    const claimBack = async (when: string) => {
      const from = scheduler.now();
      warn(
        `the run's claim on its ids (${mine}) was cleared on the broker ${when} (another run's --fresh, a tool clearing retained messages): claiming them again (a try every ${RECLAIM_RETRY_MS / 1000} s, ${CLAIM_REPUBLISH_TRIES - tries} at most)`,
      );
      const first = tries;
      while (!seenOwn && tries < CLAIM_REPUBLISH_TRIES) {
        tries++;
        await step(client.publishAsync(mine, body, { qos: 1, retain: true }));
        await waitAtMost(scheduler, RECLAIM_RETRY_MS, listen, () => seenOwn, stop, undefined);
      }
      const these = tries - first;
      if (seenOwn) {
        earlier.push({ atMs: from, why: "cleared", heldAgainMs: scheduler.now() - from });
        warn(
          `the run's claim on its ids (${mine}) is held again, ${((scheduler.now() - from) / 1000).toFixed(1)} s after it was cleared in the claim step (${these} ${these === 1 ? "try" : "tries"})`,
        );
      } else {
        warn(
          `the run's claim on its ids (${mine}) was cleared again after each of ${these} tries: starting without one, so a second run started at this moment with the same ids could boot beside this one`,
        );
        notHeld = { why: "cleared", waitedMs: scheduler.now() - from };
      }
    };
    const unheld = (n: ClaimNotHeld): FleetClaim => ({ topic: mine, close, losses: () => [], notHeld: n });
    if (ownGone()) {
      await claimBack("before the claim step finished");
      if (notHeld !== undefined) return unheld(notHeld);
    }
    if (!seenOwn) {
      // A broker that drops the claim (its access rules deny the login `<prefix>/claim/…`: Mosquitto
      // acknowledges such a publish and drops it) or the subscription never passes it back: the run
      // goes on without a claim rather than waiting for ever, and says so. It is not published again:
      // a broker that drops it drops every copy, and the run would only go round.
      // Said as the wait starts: told only at its end, the run sat 10 s on its claim step in silence.
      warn(
        `the run's claim on its ids (${mine}) has not been passed back by the broker: waiting up to ${CLAIM_ECHO_MS / 1000} s for it before starting without one`,
      );
      const waitFrom = scheduler.now();
      await waitAtMost(scheduler, CLAIM_ECHO_MS, listen, () => seenOwn, stop, undefined);
      if (!seenOwn) {
        warn(
          `the broker did not pass the run's claim on its ids (${mine}) back within ${CLAIM_ECHO_MS / 1000} s: starting without one, so a second run started at this moment with the same ids could boot beside this one (do the broker's access rules let this login publish and subscribe ${o.prefix}/claim/#?)`,
        );
        return unheld({ why: "not-passed-back", waitedMs: scheduler.now() - waitFrom });
      }
    }
    if (o.fresh) {
      for (const topic of others.keys()) await step(client.publishAsync(topic, "", { qos: 1, retain: true }));
      return holdClaim(link, client, scheduler, warn, earlier);
    }
    if (others.size > 0) {
      const shared = () => [...new Set([...others.values()].flat())].sort();
      warn(
        `${shared().length} of the fleet's ids are claimed by another run starting on the broker: waiting up to ${(o.waitMs / 1000).toFixed(1)} s for its claim to go (a run that ended or lost power just now)`,
      );
      // The run's own claim cleared meanwhile is claimed again at once: ids the other claim does
      // not name were unclaimed from then on, and the run started believing it held its claim.
      const from = scheduler.now();
      let leftOut: LeftOut | undefined;
      for (;;) {
        const left = Math.max(0, o.waitMs - (scheduler.now() - from));
        const ready = () => others.size === 0 || ownGone();
        leftOut = await waitAtMost(scheduler, left, listen, ready, stop, o.silences);
        if (!ownGone()) break;
        await claimBack("while the run waited for another run's claim on its ids to go");
      }
      if (others.size > 0)
        throw new FleetIdsInUseError(
          displayUrl(o.url),
          o.prefix,
          shared(),
          o.ids.length,
          o.waitMs,
          o.whose,
          "claimed",
          leftOut,
        );
    }
    // Cleared as the other run's claim went (the messages come in the order the broker took them).
    if (ownGone()) await claimBack("before the claim step finished");
    if (notHeld !== undefined) return unheld(notHeld);
    return holdClaim(link, client, scheduler, warn, earlier);
  } catch (e) {
    await close();
    throw e;
  } finally {
    client.off("close", onClose);
    stop?.removeEventListener("abort", onStop);
  }
}

/**
 * Resolves once `ready()` holds (checked at once and on each message) or the process has run for `ms`
 * (node/stall-watch.ts's afterRunning) with the broker answering (`silences`, held at its end by a
 * broker falling silent), to what it left out; a stop meanwhile throws FleetStartStoppedError.
 * Another run's claim used to be given the broker's silence as time to go: a broker stopped for
 * 30 s in the wait had the run refused, as the ids wait did before (fleet/ids-in-use.ts).
 */
async function waitAtMost(
  scheduler: Scheduler,
  ms: number,
  listen: (f: () => void) => () => void,
  ready: () => boolean,
  stop: AbortSignal | undefined,
  silences: BrokerSilences | undefined,
): Promise<LeftOut | undefined> {
  const stalls = stallWatchOf(scheduler);
  const startMs = scheduler.now();
  let leftOut: LeftOut | undefined;
  await new Promise<void>((resolve) => {
    const done = () => {
      leftOut = leftOutOf(timer, startMs, scheduler.now(), stalls, silences);
      timer.cancel();
      unlisten?.();
      stop?.removeEventListener("abort", done);
      resolve();
    };
    let unlisten: (() => void) | undefined;
    // Time the process ran: a stall of it (and of a broker stopped with it) is no time given.
    const timer = afterRunning(
      scheduler,
      ms,
      done,
      stalls,
      () => silences?.list() ?? [],
      (now) => silences?.holdUntil(now),
    );
    unlisten = waitUntil(listen, ready, done);
    if (stop?.aborted) done();
    else stop?.addEventListener("abort", done);
  });
  if (stop?.aborted) throw new FleetStartStoppedError(stop.reason);
  return leftOut;
}

/** Calls `done` once `ready()` holds (checked at once and on each message); returns the unlisten. */
function waitUntil(
  listen: (f: () => void) => () => void,
  ready: () => boolean,
  done: () => void,
): () => void {
  let unlisten: (() => void) | undefined;
  const check = () => {
    if (!ready()) return;
    unlisten?.();
    done();
  };
  unlisten = listen(check);
  check();
  return () => unlisten?.();
}
