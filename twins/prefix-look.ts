/**
 * A look at the nodes a broker holds under other prefixes, for a service that has seen no node on
 * its own (twins/empty-fleet.ts): a subscription to every prefix's retained statuses (`+/status/+`,
 * QoS 0) until the broker's replay for it is over (at most `LOOK_MS`), counted by prefix, then
 * dropped. The statuses it brings are the look's, never the service's: they are kept from the
 * registry (which would count each as bad input) while the look runs and after it, for one still on
 * its way as the subscription ends. A broker whose access rules refuse the subscription leaves the
 * look without an answer.
 */
import type { Logger } from "pino";
import { decode, Prefix, ProtocolError } from "../protocol/index.js";
import type { Scheduler } from "./clock.js";
import { type ReplayMarker, replayOver } from "./replay-marker.js";
import { type Subscriber, subscribeUnlessRefused } from "./subscriptions.js";

/** Every prefix's node statuses (a prefix is one topic level). */
export const LOOK_FILTER = "+/status/+";
/**
 * The longest the look gathers the retained statuses the broker sends for it: it ends sooner once its
 * replay is over (twins/replay-marker.ts), ~0.5 s on a local broker.
 */
export const LOOK_MS = 1000;
/** At most this many prefixes are counted (a broker of many fleets): the first seen. */
const MAX_PREFIXES = 100;

/** The nodes seen under one other prefix. */
export interface PrefixNodes {
  readonly prefix: string;
  readonly nodes: number;
  readonly online: number;
}

/** The first `named` of `others`: `other prefixes: tf (100 nodes, 0 online), old (1 node, 0 online) and 2 more`. */
export function prefixesShown(others: readonly PrefixNodes[], named = 3): string {
  const shown = others
    .slice(0, named)
    .map((p) => `${p.prefix} (${p.nodes} ${p.nodes === 1 ? "node" : "nodes"}, ${p.online} online)`);
  const more = others.length > named ? ` and ${others.length - named} more` : "";
  return `${others.length === 1 ? "another prefix" : "other prefixes"}: ${shown.join(", ")}${more}`;
}

/** What a look needs of the connection. */
export interface LookClient extends Subscriber {
  readonly connected: boolean;
  unsubscribeAsync(topic: string): Promise<unknown>;
}

export class PrefixLook {
  /** Once a look was made, other prefixes' statuses may still arrive: never the service's. */
  private made = false;
  /** While a look runs: each other prefix's nodes, and whether each is online. */
  private seen: Map<string, Map<string, boolean>> | undefined;
  /** When the last of the look's statuses came. */
  private lastAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly opts: {
      readonly prefix: Prefix;
      readonly scheduler: Scheduler;
      readonly logger: Logger;
    },
    /** The connection, while there is one. */
    private readonly client: () => LookClient | undefined,
    /** Ends the look once the broker's replay for it is over. */
    private readonly marker?: ReplayMarker,
  ) {}

  /** A message from the broker: true when it is the look's (a status under another prefix). */
  message(topic: string, payload: Buffer): boolean {
    if (!this.made) return false;
    const a = topic.indexOf("/");
    const b = topic.indexOf("/", a + 1);
    if (a <= 0 || b < 0 || topic.slice(0, a) === this.opts.prefix || topic.slice(a + 1, b) !== "status")
      return false;
    if (topic.indexOf("/", b + 1) >= 0) return false;
    const seen = this.seen;
    if (seen === undefined) return true;
    this.lastAt = this.opts.scheduler.now();
    const prefix = topic.slice(0, a);
    let nodes = seen.get(prefix);
    if (nodes === undefined) {
      if (seen.size >= MAX_PREFIXES) return true;
      nodes = new Map();
      seen.set(prefix, nodes);
      this.opts.logger.debug({ prefix }, "twins: node statuses seen under another prefix");
    }
    // An empty payload is a cleared status: no node stands there.
    if (payload.length === 0) nodes.delete(topic.slice(b + 1));
    else nodes.set(topic.slice(b + 1), onlineStatus(prefix, topic, payload));
    return true;
  }

  /**
   * The other prefixes holding node statuses, most nodes first; undefined when the broker refused
   * the subscription, or there is no connection.
   */
  async look(): Promise<PrefixNodes[] | undefined> {
    const client = this.client();
    if (client?.connected !== true) return undefined;
    this.made = true;
    this.seen = new Map();
    try {
      if (!(await subscribeUnlessRefused(client, LOOK_FILTER, 0))) return undefined;
      this.opts.logger.debug(
        { filter: LOOK_FILTER, ms: LOOK_MS },
        "twins: looking for nodes under other prefixes",
      );
      await replayOver(this.opts.scheduler, this.marker, () => this.lastAt, LOOK_MS);
      const seen = this.seen;
      this.seen = undefined;
      await client.unsubscribeAsync(LOOK_FILTER);
      return [...seen]
        .map(([prefix, nodes]) => ({
          prefix,
          nodes: nodes.size,
          online: [...nodes.values()].filter((on) => on).length,
        }))
        .filter((p) => p.nodes > 0)
        .sort((x, y) => y.nodes - x.nodes || (x.prefix < y.prefix ? -1 : 1));
    } catch (err) {
      this.opts.logger.debug({ err }, "twins: the look at other prefixes failed");
      return undefined;
    } finally {
      this.seen = undefined;
    }
  }
}

/** Whether a status under another prefix says its node is online, as the codec reads it (a malformed one does not). */
function onlineStatus(prefix: string, topic: string, payload: Buffer): boolean {
  try {
    const msg = decode(Prefix(prefix), topic, payload);
    return msg.kind === "status" && msg.online;
  } catch (err) {
    if (err instanceof ProtocolError) return false;
    throw err;
  }
}
