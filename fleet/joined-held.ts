/**
 * Which of the run's nodes the twins service it joined holds a twin of. A `twinfleet twins` keeps at
 * most `--max-nodes` twins and drops messages naming a new node past them (`too-many-nodes`): those
 * nodes run and sync, so the run's figures are all ok, but the service neither shows nor controls
 * them. At the end of the run, before its nodes stop, the run asks the controller on the broker
 * (protocol.md §6, "Which nodes a control server holds") and the report's `joinedTwins.held` says how
 * many it holds none of; the summary fails on them and `--assert` with it. A service that does not
 * answer (one older than the question) leaves them unknown, which fails nothing.
 */
import { randomBytes } from "node:crypto";
import { after, type Scheduler, type Timer } from "../node/scheduler.js";
import {
  encodeHeldAsk,
  heldAnswerTopic,
  heldAsks,
  heldAskTopic,
  type NodeId,
  type Prefix,
  readHeldAnswer,
} from "../protocol/index.js";
import { atText } from "./when-text.js";

/** How long the run waits for the next answer before taking the rest as unanswered. */
export const HELD_WAIT_MS = 2000;
/** How many of the nodes not held the report names. */
export const NAMED = 10;

/** What the run's probe client must do to ask. */
export interface HeldClient {
  on(event: "message", listener: (topic: string, payload: Buffer) => void): unknown;
  off(event: "message", listener: (topic: string, payload: Buffer) => void): unknown;
  subscribeAsync(topic: string, opts: { qos: 1 }): Promise<unknown>;
  unsubscribeAsync(topic: string): Promise<unknown>;
  publishAsync(topic: string, payload: string, opts: { qos: 1 }): Promise<unknown>;
}

/** The joined service's answer in the report (`joinedTwins.held`). */
export interface HeldReport {
  /** The controller asked: the service joined, or the one in its place at the end. */
  readonly clientId: string;
  /** The fleet's nodes asked about, and those an answer came for (fewer: the rest are unknown). */
  readonly asked: number;
  readonly answered: number;
  /** The fleet's nodes it holds no twin of: neither shown nor controlled by it. */
  readonly notHeld: number;
  /** The first of them (at most 10). */
  readonly notHeldIds: readonly string[];
  /** Its `--max-nodes`, and the twins it held when it last answered; absent without an answer. */
  readonly maxNodes?: number;
  readonly twins?: number;
  /** A merged report's shards that asked nothing while others did: their nodes are asked, not answered. */
  readonly unasked?: readonly number[];
  /** The run was cut short (SIGTERM, a second Ctrl-C) while it asked: those not answered by then are unknown. */
  readonly cutShort?: true;
}

/**
 * Asks `clientId` which of `ids` it holds, in as many questions as it takes, and waits for the
 * answers until all have come or none has for HELD_WAIT_MS. `stop` aborted ends the wait at once,
 * with what has been answered: a run stopped while it asked waited out the wait (or, on a broker that
 * answered neither its subscription nor its questions, until its keepalive ran out).
 */
export async function askHeld(
  client: HeldClient,
  prefix: Prefix,
  clientId: string,
  ids: readonly NodeId[],
  sched: Scheduler,
  stop?: AbortSignal,
): Promise<HeldReport> {
  const token = randomBytes(6).toString("hex");
  const asks = heldAsks(prefix, clientId, token, ids);
  const answerTopic = heldAnswerTopic(prefix, clientId, token);
  const answered = new Map<number, { readonly n: number; readonly notHeld: readonly NodeId[] }>();
  let last: { maxNodes: number; twins: number } | undefined;
  let timer: Timer | undefined;
  let over = false;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const wait = () => {
    if (over) return;
    timer?.cancel();
    timer = after(sched, HELD_WAIT_MS, done);
  };
  const listener = (topic: string, payload: Buffer) => {
    if (topic !== answerTopic) return;
    const a = readHeldAnswer(payload);
    const ask = a === undefined ? undefined : asks[a.seq];
    if (a === undefined || ask === undefined || answered.has(a.seq)) return;
    answered.set(a.seq, { n: ask.ids.length, notHeld: a.notHeld });
    last = { maxNodes: a.maxNodes, twins: a.twins };
    if (answered.size === asks.length) done();
    else wait();
  };
  client.on("message", listener);
  wait(); // bounds the subscription and the questions too (a broker lost meanwhile)
  const stopped = () => done();
  stop?.addEventListener("abort", stopped);
  if (stop?.aborted) done();
  try {
    const sent = (async () => {
      await client.subscribeAsync(answerTopic, { qos: 1 });
      await Promise.all(
        asks.map((a) => client.publishAsync(heldAskTopic(prefix, clientId), encodeHeldAsk(a), { qos: 1 })),
      );
      if (answered.size < asks.length) wait(); // from the last question on
    })();
    sent.catch(() => done());
    if (asks.length > 0) await finished;
  } finally {
    over = true;
    timer?.cancel();
    stop?.removeEventListener("abort", stopped);
    client.off("message", listener);
    client.unsubscribeAsync(answerTopic).catch(() => {});
  }
  const notHeld = [...answered.values()].flatMap((a) => a.notHeld);
  return {
    clientId,
    asked: ids.length,
    answered: [...answered.values()].reduce((s, a) => s + a.n, 0),
    notHeld: notHeld.length,
    notHeldIds: notHeld.slice(0, NAMED),
    ...(last !== undefined ? last : {}),
  };
}

/**
 * `<n> of <whose> have no twin in the twins service <id>, which keeps at most …: <ids> and <k> more
 * are neither shown nor controlled by it`, naming at most `named` of them.
 */
export function notHeldWords(h: HeldReport, whose: string, named = NAMED): string {
  const ids = h.notHeldIds.slice(0, named);
  const more = h.notHeld > ids.length ? ` and ${h.notHeld - ids.length} more` : "";
  const limit =
    h.maxNodes === undefined
      ? ""
      : `, which keeps at most ${h.maxNodes} twins (--max-nodes ${h.maxNodes}) and holds ${h.twins}`;
  return `${h.notHeld} of ${whose} have no twin in the twins service ${h.clientId}${limit}: ${ids.join(", ")}${more} are neither shown nor controlled by it`;
}

/**
 * The summary's judgement of the answer: a failure with the nodes not held, or what stayed unknown.
 * `brokerLostAtMs`: the broker was lost then and not back by the end, so the questions could not
 * reach the service; without it, the likely cause is a service older than the question.
 */
export function heldJudgement(
  h: HeldReport | undefined,
  brokerLostAtMs?: number,
): { fail?: string; unknown?: string } {
  if (h === undefined) return {};
  const fail = h.notHeld === 0 ? undefined : notHeldWords(h, `the fleet's ${h.asked} nodes`);
  const left = h.asked - h.answered;
  const unasked = h.unasked ?? [];
  const shards = `shard${unasked.length > 1 ? "s" : ""} ${unasked.join(", ")}`;
  const why =
    h.cutShort === true
      ? "the run was cut short while it asked, and waited for no more answers"
      : brokerLostAtMs === undefined
        ? "one older than this run does not, nor one that no longer runs, its presence kept by a broker that lost its last will"
        : `the broker was lost ${atText(brokerLostAtMs)} and not back by the end: the questions could not reach it`;
  const what =
    unasked.length > 0
      ? `${shards} asked the twins service ${h.clientId} nothing (a build from before the question, or no twins service on the broker when ${unasked.length > 1 ? "they" : "it"} ended)`
      : `the twins service ${h.clientId} did not answer which of the fleet's nodes it holds (${why})`;
  const unknown =
    left === 0
      ? undefined
      : `${left === h.asked ? "unknown" : `unknown for ${left} of ${h.asked} nodes`}: ${what}`;
  return { ...(fail !== undefined ? { fail } : {}), ...(unknown !== undefined ? { unknown } : {}) };
}

/** The nodes the joined service holds no twin of, as a requirement not met (`--assert`); none otherwise. */
export function heldFailures(h: HeldReport | undefined): string[] {
  const fail = heldJudgement(h).fail;
  return fail === undefined ? [] : [fail];
}
