/**
 * Retiring a node for good (docs/twins.md, "Retiring a node"; protocol.md §6): an operator replaced
 * or removed a board. Its retained status, config and report are cleared on the broker, its twin is
 * forgotten (out of the store at the next save), every node that follows it stops (an unpair, sent
 * or written as any), and the other control servers on the broker are told with a forget request,
 * `D1` on `<p>/forget/<id>`, which each carries out on its own view. Before, nothing did it: the
 * node's retained messages stayed on the broker, its twin was listed offline and stored for ever,
 * and its followers kept following it.
 */
import type { Logger } from "pino";
import {
  FORGET_REQUEST,
  forgetTopic,
  type NodeId,
  type Prefix,
  readForget,
  topicOf,
} from "../protocol/index.js";
import { type PairingOutcome, TwinsCommandError } from "./api.js";
import type { TwinsLink } from "./broker-link.js";
import type { RegistryEffect } from "./effects.js";
import type { ResolvedTwinsOptions } from "./options.js";
import type { TwinRegistry } from "./registry.js";
import type { BadInput } from "./types.js";

/**
 * For a topic under `<p>/forget/`: the node a well-formed request names, or the bad input it is.
 * Undefined for any other topic.
 */
export function forgetRequestOf(
  prefix: Prefix,
  topic: string,
  payload: Uint8Array,
): { node: NodeId } | { bad: BadInput } | undefined {
  const read = readForget(prefix, topic, payload);
  if (read === undefined || "node" in read) return read;
  return read.bad.reason === "bad-id"
    ? { bad: { reason: "bad-id", topic, detail: "not <prefix>/forget/<node id>" } }
    : {
        bad: {
          reason: "bad-payload",
          node: read.bad.node,
          topic,
          detail: `a forget request is ${FORGET_REQUEST}`,
        },
      };
}

/** No twin of the node: nothing to forget (404 over HTTP). */
export class UnknownNodeError extends TwinsCommandError {}

/** What forgetting a node did. */
export interface ForgetOutcome {
  readonly node: NodeId;
  /** The nodes that followed it (by their config or the desire) and were unpaired from it. */
  readonly unpaired: readonly NodeId[];
  /** The retained topics cleared on the broker. */
  readonly cleared: readonly string[];
  /** Unpairs stored while the broker went away mid-way: sent when it is back (as any unpair). */
  readonly deferred?: string;
}

export interface RetireDeps {
  readonly registry: TwinRegistry;
  readonly prefix: Prefix;
  readonly logger: Logger;
  readonly passive: boolean;
  /** As the service's unpair: the follower's desire without `source`, sent or stored. */
  readonly unpair: (follower: NodeId, source: NodeId) => Promise<PairingOutcome>;
  /** A QoS 1 publish through the service's link; BrokerUnavailableError while the broker is away. */
  readonly publish: (topic: string, payload: string, retain: boolean, what: string) => Promise<void>;
  /** The service's handling of effects: a twin forgotten (what else it keeps of it goes), a bad input. */
  readonly apply: (effects: readonly RegistryEffect[]) => void;
}

export interface RetireOptions {
  /** Forget it even while it is shown online (a ghost: a status no node stands behind). */
  readonly force?: boolean;
  /** Asked by another control server's forget request: not announced again. */
  readonly requested?: boolean;
  /** Why, when not an operator's command (`--forget-after`: twins/forget-after.ts), said in its line. */
  readonly why?: string;
  /** No line of its own (one of many a sweep sums up in one). */
  readonly quiet?: boolean;
}

/**
 * Forgets `node`: refused (TwinsCommandError) for an unknown node or, without `force`, an online
 * one; BrokerUnavailableError with nothing changed while the broker is away. A passive service only
 * drops the twin from its view.
 */
export async function retire(d: RetireDeps, node: NodeId, opts: RetireOptions = {}): Promise<ForgetOutcome> {
  const twin = d.registry.get(node);
  if (twin === undefined) throw new UnknownNodeError(`no node ${node} is known to the twins service`);
  if (twin.presence === "online" && opts.force !== true)
    throw new TwinsCommandError(
      `${node} is online: a running node is not forgotten (it would come back as new at its next message); switch it off first, or force it (--force, ?force=true) if it is gone and only its retained status says online`,
    );
  if (d.passive) {
    d.apply(d.registry.retire(node) ?? []);
    return { node, unpaired: [], cleared: [] };
  }
  const followers = d.registry.followersOf(node);
  const clear = async (kind: "status" | "config" | "report") => {
    const topic = topicOf(d.prefix, kind, node);
    await d.publish(
      topic,
      "",
      true,
      kind === "status" ? `the forget of ${node}` : `the clearing of ${topic}`,
    );
    return topic;
  };
  // The status first: refused while the broker is away, with nothing changed yet. A cleared status
  // changes nothing in a twin; the twin goes before its config and report are cleared, so that their
  // clears are not taken as a config to put back (twins/cleared.ts).
  const cleared = [await clear("status")];
  // Told once, though two forgets of one node may cross (a request while an operator's is under way).
  d.apply(d.registry.retire(node) ?? []);
  // What follows is independent, one node's or topic's each: sent together, one round trip to the
  // broker for the clears and one for the unpairs, not one each (a series of forgets waited for all).
  cleared.push(...(await Promise.all([clear("config"), clear("report")])));
  const unpaired = await Promise.all(
    followers.map(async (f) => {
      const t = d.registry.get(f); // one that left it meanwhile (its own config came): nothing to do
      if (!t?.desired.sources.includes(node) && !t?.follows.includes(node)) return true;
      return (await d.unpair(f, node)).sent;
    }),
  );
  const stored = followers.filter((_, i) => !unpaired[i]);
  // Last: another control server carrying it out finds the followers unpaired already.
  if (opts.requested !== true)
    await d.publish(forgetTopic(d.prefix, node), FORGET_REQUEST, false, "the forget request");
  const why =
    opts.requested === true ? " (asked by another control server)" : opts.why ? `, ${opts.why}` : "";
  if (opts.quiet !== true)
    d.logger.info(
      { node, unpaired: followers, cleared },
      `twins: forgot ${node}${why}: its retained status, config and report cleared, ${followers.length === 0 ? "no node followed it" : `${followers.join(", ")} no longer follow${followers.length === 1 ? "s" : ""} it`}; a board with its id comes back as a new node`,
    );
  const deferred =
    stored.length > 0
      ? `the broker went away: the unpairing of ${stored.join(", ")} is stored, and sent once it is back`
      : undefined;
  return { node, unpaired: followers, cleared, ...(deferred !== undefined ? { deferred } : {}) };
}

/**
 * A forget request another control server sent (`topic` under `<p>/forget/`), carried out on this
 * view; one for an unknown node changes nothing, a retained one replayed for the subscription is bad
 * input. False for any other topic.
 */
export function onForgetRequest(
  d: RetireDeps,
  topic: string,
  payload: Uint8Array,
  retained: boolean,
): boolean {
  const req = forgetRequestOf(d.prefix, topic, payload);
  if (req === undefined) return false;
  // Published with the retain flag, a request would forget the node again at every subscription:
  // after every restart of a control server, a board with the id that came back. Taken live only.
  if (retained && "node" in req) {
    const detail = `a retained ${FORGET_REQUEST}, replayed for the subscription: ignored (a forget request is never retained)`;
    d.apply([d.registry.countBad({ reason: "bad-payload", node: req.node, topic, detail })]);
    return true;
  }
  // Counted and logged as any bad input (rate-limited: twins/bad-input.ts).
  if ("bad" in req) d.apply([d.registry.countBad(req.bad)]);
  else if (d.registry.get(req.node) !== undefined)
    retire(d, req.node, { force: true, requested: true }).catch((err: unknown) =>
      d.logger.warn(
        { err, node: req.node },
        `twins: could not forget ${req.node} as another control server asked`,
      ),
    );
  return true;
}

/** A service's RetireDeps: its registry and options, a link that says false once closing, its unpair and its effects. */
export function retireDeps(
  registry: TwinRegistry,
  opts: ResolvedTwinsOptions,
  link: TwinsLink,
  service: Pick<RetireDeps, "unpair" | "apply">,
): RetireDeps {
  const { prefix, logger, passive } = opts;
  const publish = async (topic: string, payload: string, retain: boolean, what: string) => {
    if (!(await link.publish(topic, payload, retain, what)))
      throw new TwinsCommandError("the twins service is closed");
  };
  return { registry, prefix, logger, passive, publish, ...service };
}
