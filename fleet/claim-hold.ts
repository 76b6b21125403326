/**
 * A run's claim on its ids held for the whole run, once fleet/fleet-claim.ts has taken it, and
 * cleared at its end. The claim's connection does not reconnect by itself (each step of taking the
 * claim waits on it, and MQTT.js reconnecting settles none of them), so a broker restarted under the
 * run (`kill -9`, an upgrade) kept the claim only until it published the connection's will
 * (`--will-grace` after its start, 20 s): from then on only the nodes being online kept a second run
 * off the ids. A run frozen longer than 1.5 × the keepalive (its will cleared the claim, rightly)
 * came back without one too. Lost mid-run, the claim's connection now comes back as soon as the
 * broker answers (a try every RECLAIM_RETRY_MS), as the claim's own client id (which replaces the
 * will the broker kept), and claims the ids again; each is said in a line. A claim cleared while its
 * connection stayed up (a will of an earlier connection of the claim published late, after a broker
 * freeze; another run's `--fresh`; a tool clearing retained messages) went unnoticed, the ids
 * unclaimed for the rest of the run: the claim's connection stays subscribed to the claims and claims
 * the ids again when it sees its own cleared or replaced, a clear that came while it did so included
 * (it was ignored, the claim left cleared on the broker, the run saying it was held again). Cleared
 * too often, it gives up (fleet/claim-clears.ts). A claim another run took on any of the ids while
 * this one had none is said and left alone: this run does not claim over it. Each time the claim was
 * not held is kept for the run's report (losses()).
 */
import type mqtt from "mqtt";
import type { IClientOptions } from "mqtt";
import { after, type Scheduler, type Timer } from "../node/scheduler.js";
import type { NodeId, Prefix } from "../protocol/index.js";
import { type BrokerLogin, connectClient, displayUrl, loginOptions } from "../twins/index.js";
import { ClaimClears, type ClearsGivenUp, givenUpLine } from "./claim-clears.js";
import { claimedOf } from "./claim-ids.js";
import { retainedSettled } from "./waits.js";

/** How long the claim's clear may wait for the broker's acknowledgement before the claim's will clears it. */
export const CLEAR_WAIT_MS = 5_000;

/** How often a claim whose connection was lost mid-run tries to come back. */
export const RECLAIM_RETRY_MS = 1_000;

/**
 * A time the run's claim was not held mid-run: since `atMs` (the scheduler's clock), `why` (its
 * connection lost; the claim cleared or replaced on the broker while the connection stayed up), held
 * again `heldAgainMs` later, or left to another run that claimed the ids meanwhile (`takenBy`). Neither:
 * not held again when the run ended (`gaveUp`: no longer claimed, cleared too often).
 */
export interface ClaimLoss {
  readonly atMs: number;
  readonly why: "connection" | "cleared" | "replaced";
  heldAgainMs?: number;
  takenBy?: { readonly topic: string; readonly ids: number; readonly afterMs: number };
  /** Cleared too often (fleet/claim-clears.ts): not claimed again for the rest of the run. */
  gaveUp?: ClearsGivenUp;
}

/** Where the claim's lines go: a warning, or (`error`) the claim given up. */
export type ClaimSay = (line: string, level?: "error") => void;

/**
 * The run started with no claim at all (fleet/fleet-claim.ts): the broker never passed it back
 * (`not-passed-back`: its access rules drop it) or it was cleared on the broker before the claim step
 * finished (`cleared`), and the run went on after waiting `waitedMs` for it.
 */
export interface ClaimNotHeld {
  readonly why: "not-passed-back" | "cleared";
  readonly waitedMs: number;
}

/** The run's claim on its ids, cleared by close() (or, should the run die, by its will). */
export interface FleetClaim {
  /** `<prefix>/claim/<token>`. */
  readonly topic: string;
  /** Set when the run went on without a claim at all; absent when it held one. */
  readonly notHeld?: ClaimNotHeld;
  close(): Promise<void>;
  /** The times the claim was not held mid-run, in order (none: an empty list). */
  losses(): readonly ClaimLoss[];
  /** When close() began (the scheduler's clock): a loss not held again lasted until then. */
  closedAt?(): number | undefined;
}

/** A claim taken: where, on what connection, its topic and payload. */
export interface ClaimLink {
  readonly url: string;
  readonly login?: BrokerLogin;
  readonly prefix: Prefix;
  readonly ids: readonly NodeId[];
  /** `<prefix>/claim/<token>`. */
  readonly topic: string;
  /** The claim's payload (fleet/claim-ids.ts). */
  readonly body: string;
  /** The claim's connection's: its client id, its will (an empty claim), its keepalive. */
  readonly options: IClientOptions;
}

/**
 * The claim cleared on `client`, then the connection ended. A clear the broker does not acknowledge
 * within CLEAR_WAIT_MS, or a connection lost meanwhile, ends it without a DISCONNECT: the broker then
 * publishes the claim's will, which clears it as well. Waiting on the acknowledgement alone held a
 * shard's end for ever (a NATS cluster member that dropped the connection before acknowledging;
 * MQTT.js, not reconnecting, never settles the publish), deaf to its stops. A connection lost mid-run
 * is cleared on one of its own, as the will may never come.
 */
export async function clearClaim(
  link: ClaimLink,
  client: mqtt.MqttClient,
  scheduler: Scheduler,
): Promise<void> {
  if (!client.connected) {
    await client.endAsync(true).catch(() => {});
    return clearAgain(link, scheduler);
  }
  let timer: Timer | undefined;
  const cleared = await Promise.race([
    client.publishAsync(link.topic, "", { qos: 1, retain: true }).then(
      () => true,
      () => false,
    ),
    new Promise<boolean>((resolve) => {
      client.once("close", () => resolve(false));
      timer = after(scheduler, CLEAR_WAIT_MS, () => resolve(false));
    }),
  ]);
  timer?.cancel();
  await client.endAsync(!cleared).catch(() => {});
}

/**
 * Holds the claim taken on `client` until close(): a connection lost meanwhile comes back and claims
 * the ids again, and so does a claim cleared or replaced on the broker while its connection stays
 * up (`warn` says when it was lost, when it is back, and a claim another run took meanwhile). Each
 * loss is kept for the run's report (claim.losses()).
 */
export function holdClaim(
  link: ClaimLink,
  client: mqtt.MqttClient,
  scheduler: Scheduler,
  warn: ClaimSay,
  earlier: readonly ClaimLoss[] = [],
): FleetClaim {
  const what = `the run's claim on its ${link.ids.length} ids (${link.topic})`;
  let current: mqtt.MqttClient | undefined;
  let closing = false;
  /** Another run claimed the ids while this one had no claim: left to it. */
  let yielded = false;
  /** The loss being mended: the claim is not held from its atMs on. */
  let loss: ClaimLoss | undefined;
  /** Those of the claim step (fleet/fleet-claim.ts) first: a claim cleared there and held again. */
  const losses: ClaimLoss[] = [...earlier];
  let retry: Timer | undefined;
  let connecting: AbortController | undefined;
  /** The connection a read of the claims held and a claim again is under way on. */
  let claimingOn: mqtt.MqttClient | undefined;
  /**
   * The claim's last payload seen while a claim again was under way, unless it was its own: a clear
   * the broker took after the claim again's publish. Ignored, the claim stayed cleared on the broker,
   * the run saying it was held again.
   */
  let missed: Buffer | undefined;
  /** The clears seen; at the bound (fleet/claim-clears.ts) the run gives its claim up. */
  const clears = new ClaimClears();
  let gaveUp = false;
  /** The claims the connection's subscription passed on, topic → payload (its own included). */
  const claims = new Map<string, Buffer>();
  const listeners = new Set<() => void>();

  const begin = (why: ClaimLoss["why"]) => {
    if (loss !== undefined) return;
    loss = { atMs: scheduler.now(), why };
    losses.push(loss);
  };
  const tryAgain = () => {
    retry = after(scheduler, RECLAIM_RETRY_MS, () => {
      retry = undefined;
      reclaim().catch(() => {}); // a step cut short by the connection's close: that close tries again
    });
  };
  const lost = (c: mqtt.MqttClient) => {
    if (closing || c !== current) return;
    current = undefined;
    if (gaveUp) return;
    if (loss === undefined) {
      begin("connection");
      warn(
        `${what} lost its connection to the broker at ${displayUrl(link.url)}: claiming them again once it answers (a try every ${RECLAIM_RETRY_MS / 1000} s); until then only the nodes online keep another run off the ids`,
      );
    }
    tryAgain();
  };
  /**
   * The claim cleared (a will of an earlier connection of the claim published late, another run's
   * `--fresh`, a tool) or replaced on the broker while its connection stays up: nothing else tells.
   * A payload written over it, whatever ids it names, is no run's claim: a run claims on a topic of
   * its own random token (6 bytes, never given on the command line), its claim connection's client id
   * carrying the same token; so the run writes its own claim back over it, and the ids that payload
   * named (claims in other topics alone count for them) are not taken as claimed.
   */
  const watched = (c: mqtt.MqttClient, payload: Buffer) => {
    if (closing || gaveUp || c !== current) return;
    const own = payload.toString() === link.body;
    // Seen while a claim again is under way: a clear before its publish is written over by it, and
    // the publish passed back comes after it; one after it is seen once the claim again is done.
    if (claimingOn === c) missed = own ? undefined : payload;
    if (claimingOn === c || own) return;
    const cleared = payload.length === 0;
    begin(cleared ? "cleared" : "replaced");
    const over = clears.add(scheduler.now());
    if (over !== undefined && loss !== undefined) {
      gaveUp = true;
      loss.gaveUp = over;
      loss = undefined;
      warn(givenUpLine(what, link.topic, displayUrl(link.url), over), "error");
      return;
    }
    warn(
      `${what} was ${cleared ? "cleared" : "replaced by another payload"} on the broker at ${displayUrl(link.url)} while its connection stayed up (${cleared ? "a will of an earlier connection of the claim, another run's --fresh, or a tool clearing retained messages" : "a client that is no run's claim wrote on its topic: each run's claim topic holds a token of its own, and the ids that payload names are no run's"}): claiming the ids again unless another run claimed them`,
    );
    claimOn(c).catch(() => {}); // cut short by the connection's close: that close tries again
  };
  const hold = (c: mqtt.MqttClient) => {
    current = c;
    claims.clear();
    c.on("error", () => {});
    c.on("message", (topic, payload) => {
      if (c !== current) return;
      if (payload.length > 0) claims.set(topic, payload);
      else claims.delete(topic);
      for (const f of listeners) f();
      if (topic === link.topic) watched(c, payload);
    });
    c.once("close", () => lost(c));
    if (!c.connected) lost(c);
  };

  /** Connects as the claim's client id, then claims the ids again on that connection. */
  const reclaim = async () => {
    connecting = new AbortController();
    let c: mqtt.MqttClient;
    try {
      c = await connectClient(link.url, link.options, connecting.signal);
    } catch {
      if (closing) return;
      current = undefined;
      tryAgain();
      return;
    }
    if (closing) {
      await c.endAsync(true).catch(() => {});
      return;
    }
    hold(c);
    await claimOn(c);
  };

  /**
   * Reads the claims held on `c` (a subscription made again passes the retained ones again) and claims
   * the ids again unless another run did; the subscription stays, to see the claim cleared later.
   */
  const claimOn = async (c: mqtt.MqttClient) => {
    claimingOn = c;
    missed = undefined;
    try {
      await claimAgain(c);
    } finally {
      if (claimingOn === c) claimingOn = undefined;
    }
    const after = missed;
    missed = undefined;
    if (after !== undefined) watched(c, after);
  };
  const claimAgain = async (c: mqtt.MqttClient) => {
    const cut = new Promise<never>((_, reject) =>
      c.once("close", () => reject(new Error("connection lost"))),
    );
    cut.catch(() => {});
    claims.clear();
    await Promise.race([c.subscribeAsync(`${link.prefix}/claim/+`, { qos: 1 }), cut]);
    await retainedSettled(scheduler, (f) => {
      listeners.add(f);
      return () => listeners.delete(f);
    });
    if (closing || current !== c || loss === undefined) return;
    const away = `${((scheduler.now() - loss.atMs) / 1000).toFixed(1)} s`;
    const kept = claims.get(link.topic)?.toString() === link.body;
    const others = [...claims]
      .filter(([topic]) => topic !== link.topic)
      .map(([topic, payload]) => ({ topic, shared: claimedOf(payload, link.ids) }))
      .filter((x) => x.shared.length > 0);
    const theirs = others[0];
    const gone = loss.why === "connection" ? "lost" : loss.why;
    const since = loss.why === "connection" ? "its connection was lost" : `it was ${loss.why}`;
    if (!kept && theirs !== undefined) {
      // The broker cleared this run's claim (its will, another run's --fresh) and another run, finding
      // the ids unclaimed and its nodes offline, claimed them: its nodes are booting on the ids.
      // Claiming over it would be a second claim it does not wait for; this run says so and leaves
      // the ids' claim to it.
      yielded = true;
      current = undefined;
      loss.takenBy = { topic: theirs.topic, ids: theirs.shared.length, afterMs: scheduler.now() - loss.atMs };
      loss = undefined;
      warn(
        `another run claimed ${theirs.shared.length} of this run's ${link.ids.length} ids on the broker while ${what} was ${gone} (${theirs.topic}: ${theirs.shared.slice(0, 3).join(", ")}${theirs.shared.length > 3 ? ` and ${theirs.shared.length - 3} more` : ""}): this run does not claim them again, and its nodes and that run's take each other's sessions over on those ids; stop one of the two runs`,
      );
      await c.endAsync().catch(() => {});
      return;
    }
    await Promise.race([c.publishAsync(link.topic, link.body, { qos: 1, retain: true }), cut]);
    if (closing || current !== c) return;
    loss.heldAgainMs = scheduler.now() - loss.atMs;
    loss = undefined;
    const how =
      since !== "its connection was lost"
        ? "claimed again"
        : kept
          ? "the broker had kept it"
          : "the broker had cleared it meanwhile, by its will: claimed again";
    warn(`${what} is held again, ${away} after ${since} (${how})`);
  };

  hold(client);
  let closedAt: number | undefined;
  return {
    topic: link.topic,
    losses: () => losses,
    closedAt: () => closedAt,
    close: async () => {
      closedAt ??= scheduler.now();
      closing = true;
      retry?.cancel();
      connecting?.abort(new Error("the run ended"));
      if (yielded) return;
      const c = current;
      current = undefined;
      if (c !== undefined) return clearClaim(link, c, scheduler);
      return clearAgain(link, scheduler);
    },
  };
}

/**
 * Clears the claim once on a new connection (as the claim's client id), within CLEAR_WAIT_MS: the
 * claim's own connection was lost mid-run, and the will that was to clear the claim is not sure to
 * come. A twinfleet broker restarted under the run publishes its previous run's wills `--will-grace`
 * after its start; one of a build before that (a broker rolled back) publishes none, and the claim
 * stayed retained after the run's end: the next run on the ids waited its 23.5 s and was refused,
 * beside "another run starting at the same time". A broker out of reach within the wait leaves the
 * claim to its will.
 */
async function clearAgain(link: ClaimLink, scheduler: Scheduler): Promise<void> {
  const gone = new AbortController();
  const timedOut = new Promise<never>((_, reject) => {
    gone.signal.addEventListener("abort", () => reject(gone.signal.reason), { once: true });
  });
  timedOut.catch(() => {});
  const timer = after(scheduler, CLEAR_WAIT_MS, () => gone.abort(new Error("the claim's clear timed out")));
  let client: mqtt.MqttClient | undefined;
  try {
    const options = {
      clientId: link.options.clientId,
      clean: true,
      reconnectPeriod: 0,
      ...loginOptions(link.login),
    };
    client = await connectClient(link.url, options, gone.signal);
    client.on("error", () => {});
    await Promise.race([client.publishAsync(link.topic, "", { qos: 1, retain: true }), timedOut]);
  } catch {
    // Out of reach, refused or too slow: the claim's will is all there is.
  } finally {
    timer.cancel();
    client?.end(true);
  }
}
