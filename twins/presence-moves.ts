/**
 * What the twins service does when a node's presence moves (the registry's `online`, `offline` and
 * `unheard` effects): the events, what was in flight to a node gone forgotten, flapping counted; and
 * a broker restart told once, with the nodes it leaves unheard (twins/node-presence.ts), rather than
 * a line per node.
 */
import type { EventEmitter } from "node:events";
import type { Logger } from "pino";
import type { NodeId } from "../protocol/index.js";
import type { Scheduler } from "./clock.js";
import type { RegistryEffect } from "./effects.js";
import type { FlapLog, flapWatch } from "./flapping.js";
import { unheardOf } from "./node-presence.js";
import type { Twin, TwinsEvents } from "./types.js";

/** How many node ids the restart's line names before summing the rest. */
const NAMED = 5;

export interface PresenceMoveDeps {
  readonly events: EventEmitter<TwinsEvents>;
  readonly twin: (id: NodeId) => Twin | undefined;
  readonly reconciler: { forget(node: NodeId): void };
  readonly flaps: ReturnType<typeof flapWatch>;
  readonly flapLog: FlapLog;
  readonly scheduler: Scheduler;
}

/** One node's presence moved (`e`): its events. */
export function presenceMoved(
  e: Extract<RegistryEffect, { type: "online" | "offline" | "unheard" }>,
  on: PresenceMoveDeps,
): void {
  const twin = on.twin(e.node);
  // Whatever was in flight to it is lost (clean session): its next register re-sends.
  if (e.type !== "online") on.reconciler.forget(e.node);
  if (!twin) return;
  if (e.type === "online") on.events.emit("twin-online", twin);
  if (e.type === "offline") on.events.emit("twin-offline", twin);
  on.events.emit("twin-updated", twin, "presence");
  if (e.type !== "offline") return;
  const flapMs = on.flaps.hit(e.node, on.scheduler.now());
  if (flapMs !== undefined) {
    on.flapLog.told(e.node, flapMs);
    on.events.emit("twin-flapping", twin, flapMs);
  }
}

/** `a, b, c, d, e and 95 more`: the first NAMED of `nodes`, and how many more. */
function named(nodes: readonly NodeId[]): string {
  return nodes.length > NAMED
    ? `${nodes.slice(0, NAMED).join(", ")} and ${nodes.length - NAMED} more`
    : nodes.join(", ");
}

/**
 * The broker restarted (twins/broker-restart.ts): the registry's effects of it applied by `apply`,
 * one WARN naming the nodes left unheard, and the `broker-restarted` event. `before`: told at the
 * first connection, by what the service before this one on the data directory read.
 */
export function brokerRestarted(
  effects: readonly RegistryEffect[],
  how: string,
  on: { readonly events: EventEmitter<TwinsEvents>; readonly logger: Logger; readonly url: string },
  apply: (effects: readonly RegistryEffect[]) => void,
  before = false,
): readonly NodeId[] {
  const nodes = unheardOf(effects);
  const list = named(nodes);
  const later =
    "the statuses it replays are not counted online until their nodes are heard, or offline when the will comes";
  const shown =
    nodes.length === 0
      ? before
        ? later
        : "no node it showed online is left unheard"
      : `${nodes.length} ${nodes.length === 1 ? "node" : "nodes"} it showed online by the broker's kept status ${nodes.length === 1 ? "is" : "are"} not heard since the broker restarted (${list}): not counted online until heard, or offline when the will comes`;
  const when = before
    ? "since the service before this one on its data directory last read it"
    : "while the connection was down";
  on.logger.warn(
    { broker: on.url, unheard: nodes.length, before },
    `twins: the broker at ${on.url} restarted ${when} (${how}); ${shown}`,
  );
  apply(effects);
  on.events.emit("broker-restarted", nodes, how, before);
  return nodes;
}

/**
 * A member of the broker's cluster was lost (twins/member-loss.ts): the registry's effects applied by
 * `apply`, one WARN naming the nodes left unheard, and the `member-lost` event.
 */
export function memberLost(
  member: string,
  effects: readonly RegistryEffect[],
  on: { readonly events: EventEmitter<TwinsEvents>; readonly logger: Logger; readonly url: string },
  apply: (effects: readonly RegistryEffect[]) => void,
): void {
  const nodes = unheardOf(effects);
  const list = named(nodes);
  on.logger.warn(
    { broker: on.url, member, unheard: nodes.length },
    nodes.length === 0
      ? `twins: cluster member ${member} of the broker at ${on.url} was lost; no node shown online was on it`
      : `twins: cluster member ${member} of the broker at ${on.url} was lost (down, or cut off from Redis); ${nodes.length} ${nodes.length === 1 ? "node" : "nodes"} on it (${list}) not counted online until heard, or offline when the will comes`,
  );
  apply(effects);
  on.events.emit("member-lost", member, nodes);
}
