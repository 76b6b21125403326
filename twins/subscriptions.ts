/**
 * The twins service's subscriptions at every (re)connect, in their order: each node's configs, then
 * reports (the configs tell a report's check which sources a node has), then statuses and registers
 * (SERVICE_TOPIC_KINDS); then what the service can do without: the other control servers' forget
 * requests (twins/retire.ts), the held questions to a service holding a presence
 * (twins/held-answers.ts), the sets twins services keep for nodes away (twins/kept-sets.ts) and,
 * first, Mosquitto's count of dropped messages (twins/broker-drops.ts) and the broker's start id or
 * uptime (twins/broker-restart.ts). A
 * broker whose access rules refuse one of those (MQTT.js rejects a SUBACK holding 0x80) is told
 * once, with what the service then misses, and the service serves on: a refusal there used to stop
 * the connect sequence before the query, and the service never connected. A refused node topic
 * (`<p>/register/+`, …) is told the same way, naming the filter and the access rule to change, and
 * the service serves on what it may read: the refusal stopped the sequence before the presence and
 * the query, told only as `subscribing failed err="Subscribe error: Unspecified error"`.
 *
 * The nodes' topics are read at QoS 0 (the service and the one-shot commands alike): Mosquitto drops what does not fit a client's in-flight window and queue (20 + 1,000 by
 * default) of a QoS 1 replay, so the service started on 3,000 nodes' state showed 1,980 `unknown`
 * and `twinfleet nodes` listed 1,020 of 3,000, while a QoS 0 replay came whole (30,000 nodes in a
 * measure). The nodes a command acts on (`focus`) are subscribed to by name first, into an empty
 * queue: what it reads of them is whole even when a queue is short for the rest; at most
 * FILTERS_PER_SUBSCRIBE filters a SUBSCRIBE, so a forget of many nodes stays within a broker's limit.
 * A one-shot command asks after each of those SUBSCRIBEs whether the broker cut its replay
 * (twins/replay-cut.ts): a Mosquitto with a short `max_queued_bytes` cuts even a QoS 0 replay.
 */
import type { Logger } from "pino";
import { allNodesTopic, forgetSubscription, type NodeId, type Prefix, topicOf } from "../protocol/index.js";
import { DROPPED_TOPIC } from "./broker-drops.js";
import { START_ID_TOPIC, UPTIME_TOPIC } from "./broker-restart.js";
import { keptSubscription } from "./kept-sets.js";
import { MEMBER_LOST_TOPIC } from "./member-loss.js";
import { SERVICE_TOPIC_KINDS } from "./presence.js";
import type { ReplayCut, Unsubscriber } from "./replay-cut.js";
import { cutTopics, replayCutLine, reread } from "./replay-reread.js";
import type { RereadHandler } from "./types.js";
/**
 * The most topic filters sent in one SUBSCRIBE: `twinfleet broker --max-filters-per-subscribe`'s
 * default (64), past which it closes the connection (MQTT 3.1.1 has no refusal of a whole SUBSCRIBE).
 */
export const FILTERS_PER_SUBSCRIBE = 64;

/** What a subscription needs of the connection. */
export interface Subscriber {
  subscribeAsync(topic: string | string[], opts: { qos: 0 | 1 }): Promise<unknown>;
}

const REFUSED = 128;

/** Whether a SUBACK's granted list holds the broker's refusal of a filter (0x80). */
function refusedIn(granted: unknown): boolean {
  return (
    Array.isArray(granted) &&
    granted.some((g: unknown) => g === REFUSED || (g as { qos?: number } | null)?.qos === REFUSED)
  );
}

/** Whether a SUBSCRIBE's rejection is the broker's refusal of a filter, not a lost connection. */
function isRefusal(e: unknown): boolean {
  return refusedIn((e as { packet?: { granted?: unknown } } | null)?.packet?.granted);
}

/** Subscribes to `topic`; false when the broker refused it (a lost connection rejects as before). */
export function subscribeUnlessRefused(client: Subscriber, topic: string, qos: 0 | 1): Promise<boolean> {
  return client.subscribeAsync(topic, { qos }).then(
    (granted) => !refusedIn(granted),
    (e: unknown) => {
      if (isRefusal(e)) return false;
      throw e;
    },
  );
}

/** What the service misses of the nodes when the broker refuses it one of their topics. */
const NODES_MISSED: Record<(typeof SERVICE_TOPIC_KINDS)[number], string> = {
  config: "the nodes' configs (which nodes each follows) are not read",
  status: "the nodes' statuses (online, offline) are not read",
  report: "the nodes' reports (their states) are not read",
  register: "the nodes' registers (kind, profile, firmware) are not read",
};

/** The rule to change so the service's login may read `filter`. */
const MAY_READ = (filter: string) =>
  `the broker's access rules must let this login read ${filter} (twinfleet broker: a control login in --auth FILE, no --deny-subscribe over it; Mosquitto: \`topic read ${filter}\` for this user in its acl_file)`;

export class ServiceSubscriptions {
  private readonly told = new Set<string>();

  constructor(
    private readonly prefix: Prefix,
    private readonly logger: Logger,
    /** A service holding a presence: its held questions (twins/held-answers.ts). */
    private readonly askTopic?: string,
    /** The nodes whose retained topics are subscribed to first. */
    private readonly nodes: {
      readonly focus: readonly NodeId[];
      readonly url?: string;
      readonly replayCheck?: boolean;
    } = { focus: [] },
    /** A one-shot command's check of each replay of the nodes' topics (twins/replay-cut.ts). */
    private readonly cut?: ReplayCut,
    /** A replay cut: the nodes known, whose topics are asked for again, and what the re-read made of it. */
    private readonly again?: RereadHandler,
  ) {}

  async subscribe(client: Subscriber & Unsubscriber): Promise<void> {
    // The broker's count of dropped messages first: its retained value is the base a rise is told
    // from, and the nodes' replay below is what a short client queue drops. Subscribed after it, the
    // base could already hold the replay's drops (a count published in between), told to no one.
    await this.optional(
      client,
      DROPPED_TOPIC,
      0,
      "messages Mosquitto drops for full client queues are not told (its access rules must let this login read it)",
    );
    // What the broker says of itself before the nodes' replay: a restart it shows (twins/broker-restart.ts).
    for (const topic of [START_ID_TOPIC, UPTIME_TOPIC])
      await this.optional(
        client,
        topic,
        0,
        "a broker restarted on its store is not told from a dropped connection: a node gone meanwhile reads online until its will or the query's look (docs/twins.md)",
      );
    // A cluster member lost, told by another member (twins/member-loss.ts); QoS 1: the one loss told.
    await this.optional(
      client,
      MEMBER_LOST_TOPIC,
      1,
      "nodes cut off with a lost member of a Redis cluster read online until the cluster publishes their wills (docs/cluster.md)",
    );
    const { focus } = this.nodes;
    const { cut } = this;
    // At QoS 0; with the check, the retained copy it asks for last in the same SUBSCRIBE.
    const nodesRead = (filters: readonly string[]) =>
      cut !== undefined ? cut.subscribe(client, filters) : client.subscribeAsync([...filters], { qos: 0 });
    await cut?.begin(client);
    // Few SUBSCRIBEs, their filters in this order: a round trip per FILTERS_PER_SUBSCRIBE, not 3 a
    // node. One SUBSCRIBE of them all (150 filters for a forget of 50 nodes) passed the broker's limit
    // and the broker closed the connection: the forget said the broker did not answer.
    const kinds = SERVICE_TOPIC_KINDS.filter((k) => k !== "register");
    const named = kinds.flatMap((kind) => focus.map((id) => topicOf(this.prefix, kind, id)));
    const per = cut !== undefined ? FILTERS_PER_SUBSCRIBE - 1 : FILTERS_PER_SUBSCRIBE;
    for (let i = 0; i < named.length; i += per) await nodesRead(named.slice(i, i + per));
    for (const kind of SERVICE_TOPIC_KINDS) {
      const filter = allNodesTopic(this.prefix, kind);
      // A service refused one (its login's access rules) serves on what it may read, told once with
      // the filter and the rule to change; a one-shot command (its replay checked) rejects as before.
      if (this.nodes.replayCheck === true) await nodesRead([filter]);
      else
        await this.unlessRefused(
          filter,
          () => nodesRead([filter]),
          `${NODES_MISSED[kind]}; ${MAY_READ(filter)}`,
        );
    }
    if (cut !== undefined) await this.rereadCut(client, cut);
    await this.optional(
      client,
      forgetSubscription(this.prefix),
      1,
      "a node retired through another control server stays listed here until it is forgotten here too",
    );
    await this.optional(
      client,
      keptSubscription(this.prefix),
      0,
      "the sets other twins services keep for nodes that are away are not marked here",
    );
    if (this.askTopic !== undefined)
      await this.optional(
        client,
        this.askTopic,
        1,
        "a run that joins this service cannot learn which of its nodes this service holds no twin of",
      );
  }

  /** The nodes' topics of the replays the broker cut, asked for again (twins/replay-reread.ts), and told. */
  private async rereadCut(client: Subscriber & Unsubscriber, cut: ReplayCut): Promise<void> {
    const { again } = this;
    const filters = cut.read.cut;
    if (filters.length > 0) cut.cutReads++;
    cut.unread = filters; // until the re-read brings them
    if (filters.length > 0 && again !== undefined) {
      const topics = cutTopics(this.prefix, filters, again.known());
      const r = await reread(client, cut, topics, FILTERS_PER_SUBSCRIBE - 1);
      cut.unread = r.unread;
      const told = { cut: filters, asked: topics.length, ...r, nodes: again.known().length };
      this.logger.warn(
        { cut: filters, nodes: told.nodes, subscribes: r.subscribes, unread: r.unread.length },
        replayCutLine(this.nodes.url ?? "", this.prefix, told),
      );
      again.told(told);
    }
    cut.end();
  }

  /** Runs `subscribe`, telling the broker's refusal of `topic` once with what it costs, not rejecting. */
  private async unlessRefused(topic: string, subscribe: () => Promise<unknown>, cost: string): Promise<void> {
    try {
      await subscribe();
    } catch (e) {
      if (!isRefusal(e)) throw e;
      this.tellRefused(topic, cost);
    }
  }

  private tellRefused(topic: string, cost: string): void {
    if (this.told.has(topic)) return;
    this.told.add(topic);
    this.logger.warn({ topic }, `twins: the broker refused the subscription to ${topic}: ${cost}`);
  }

  /** Subscribes, telling a refusal once per topic with what it costs; true when subscribed. */
  async optional(client: Subscriber, topic: string, qos: 0 | 1, cost: string): Promise<boolean> {
    const ok = await subscribeUnlessRefused(client, topic, qos);
    if (!ok) this.tellRefused(topic, cost);
    return ok;
  }
}
