/**
 * The sets a twins service keeps for nodes that are away, told to other clients (protocol.md §6,
 * "Kept sets"): a service holding a presence publishes a retained `K1 <0|1> <client id>` on
 * `<prefix>/kept/<node>` while it holds a pending set for the node, and clears it (an empty retained
 * message) once the set is answered, replaced or the node forgotten. Every twins instance reads them
 * (a `monitor`, a one-shot command), so a view marks `set waits` on a node another service keeps a set
 * for: the set lived in that service's store alone, and a monitor on the same broker marked nothing.
 * A kept set counts only while its writer's presence is on the broker (a service killed, or that
 * restarted under a new client id, no longer stands behind it). Nodes and older builds never
 * subscribe to the topic.
 */
import { isNodeId, type NodeId, type Prefix } from "../protocol/index.js";
import { CLIENT_ID_RE } from "./presence.js";
import type { Twin } from "./types.js";

export const KEPT_TAG = "K1";

/** A set kept for a node by the twins service `by`. */
export interface KeptSet {
  readonly on: boolean;
  readonly by: string;
}

export const keptTopic = (prefix: Prefix, node: string) => `${prefix}/kept/${node}`;
export const keptSubscription = (prefix: Prefix) => `${prefix}/kept/+`;

export function encodeKept(k: KeptSet): string {
  return `${KEPT_TAG} ${k.on ? 1 : 0} ${k.by}`;
}

/** The kept set of a payload; undefined for an empty (cleared) or a malformed one. */
export function decodeKept(payload: string): KeptSet | undefined {
  const m = /^K1 ([01]) (\S+)$/.exec(payload);
  if (!m || !CLIENT_ID_RE.test(m[2] as string)) return undefined;
  return { on: m[1] === "1", by: m[2] as string };
}

export interface KeptSetsDeps {
  readonly prefix: Prefix;
  readonly clientId: string;
  /** Retained publish; absent for a reader only (a one-shot command, a passive service). */
  readonly publish?: (topic: string, payload: string) => Promise<unknown>;
  /** Client ids of the control servers whose presence is on the broker now (itself excluded). */
  readonly present: () => readonly string[];
  readonly warn: (err: unknown, topic: string) => void;
  /** The broker told a node's kept set (set or cleared). */
  readonly told?: (node: string) => void;
}

export class KeptSets {
  /** What this service last published per node: its own kept sets. */
  private readonly mine = new Map<NodeId, boolean>();
  /** What the broker holds, by any service. */
  private readonly seen = new Map<string, KeptSet>();
  private readonly head: string;

  constructor(private readonly deps: KeptSetsDeps) {
    this.head = `${deps.prefix}/kept/`;
  }

  /** A message on a kept topic (true: taken); anything else is not its. */
  message(topic: string, payload: Buffer | string): boolean {
    if (!topic.startsWith(this.head)) return false;
    const node = topic.slice(this.head.length);
    const k = decodeKept(payload.toString());
    if (k === undefined) this.seen.delete(node);
    else this.seen.set(node, k);
    this.deps.told?.(node);
    return true;
  }

  /** Tells every node the broker holds a kept set for again (their writers' presence changed). */
  retell(): void {
    for (const node of this.seen.keys()) this.deps.told?.(node);
  }

  /** The set another present service (or this one) keeps for `node`, as the broker holds it. */
  of(node: string): KeptSet | undefined {
    const k = this.seen.get(node);
    if (k === undefined) return undefined;
    return k.by === this.deps.clientId || this.deps.present().includes(k.by) ? k : undefined;
  }

  /** The twin's desire changed (or it was forgotten: `twin` undefined): publish or clear its kept set. */
  changed(node: NodeId, twin: Twin | undefined): void {
    const set = twin?.desired.pendingSet;
    const was = this.mine.get(node);
    if (set?.on === was) return;
    if (set === undefined) this.mine.delete(node);
    else this.mine.set(node, set.on);
    this.write(node, set === undefined ? "" : encodeKept({ on: set.on, by: this.deps.clientId }));
  }

  /** Connected: every pending set of `twins` published again (the broker may have lost them). */
  all(twins: readonly Twin[]): void {
    for (const t of twins) {
      const set = t.desired.pendingSet;
      if (set === undefined) continue;
      this.mine.set(t.id, set.on);
      this.write(t.id, encodeKept({ on: set.on, by: this.deps.clientId }));
    }
  }

  private write(node: NodeId, payload: string): void {
    const { publish } = this.deps;
    if (publish === undefined) return;
    const topic = keptTopic(this.deps.prefix, node);
    publish(topic, payload).catch((err: unknown) => this.deps.warn(err, topic));
  }
}

/** The kept sets of a service: it publishes its own when it holds a presence and is not passive. */
export function keptSetsFor(
  opts: {
    readonly prefix: Prefix;
    readonly clientId: string;
    readonly presence: boolean;
    readonly passive: boolean;
    readonly logger: { warn(o: object, msg: string): void };
  },
  link: {
    publish(topic: string, payload: string, retain: boolean, what: string): Promise<boolean>;
    readonly otherServices: readonly { readonly clientId: string }[];
  },
  registry: { get(id: NodeId): Twin | undefined },
  owner: {
    emit(event: "twin-updated", twin: Twin, change: "desired"): unknown;
    on(event: "other-services", fn: () => void): unknown;
  },
): KeptSets {
  const writes = opts.presence && !opts.passive;
  const kept: KeptSets = new KeptSets({
    prefix: opts.prefix,
    clientId: opts.clientId,
    ...(writes
      ? { publish: (topic: string, payload: string) => link.publish(topic, payload, true, "kept set") }
      : {}),
    present: () => link.otherServices.map((s) => s.clientId),
    // A view marks the node again (its `waits`): the twin itself is unchanged.
    told: (node) => {
      const twin = isNodeId(node) ? registry.get(node) : undefined;
      if (twin !== undefined) owner.emit("twin-updated", twin, "desired");
    },
    warn: (err, topic) =>
      opts.logger.warn(
        { err, topic },
        `twins: the kept set at ${topic} was not written: other clients do not see it until the service connects again`,
      ),
  });
  // The services present changed: a kept set counts, or no longer does, by its writer's presence.
  owner.on("other-services", () => kept.retell());
  return kept;
}
