/**
 * A node's presence as the registry decides it: from its retained status, its live messages, a
 * query left unanswered (twins/unanswered.ts) and a broker restart (twins/broker-restart.ts). A
 * broker restarted on its store replays each node's retained `T1 1` as it kept it, with no session
 * of the node behind it: a node gone while the broker was down read online until the broker
 * published its will (`--will-grace`, 20 s) or, on a broker that kept no will (Mosquitto), until
 * the query went unanswered (23.5 s). Once the restart is known, a twin shown online that has sent
 * nothing since the connection to the restarted broker is `unheard`, as is any the broker replays
 * online afterwards: not counted online, nor as a follower online for convergence, until the node
 * is heard (its live status or its register: online) or its will arrives (offline). A live report
 * does not count: any control client writes a node's report topic (a put-back: twins/put-back.ts).
 * Pure on the twins.
 */
import type { NodeId, StatusMessage } from "../protocol/index.js";
import type { RegistryEffect } from "./effects.js";
import { presenceHeard } from "./register-effects.js";
import { onlineEffect, setPresence, type TwinRecord } from "./twin-record.js";

export class NodePresence {
  /** When the service connected to the broker last known to have restarted, on its clock. */
  private restartedAt: number | undefined;

  /** Has `t` sent nothing since the last broker restart known? (false while none is.) */
  private unheardSinceRestart(t: TwinRecord): boolean {
    return this.restartedAt !== undefined && (t.lastSeen ?? Number.NEGATIVE_INFINITY) < this.restartedAt;
  }

  /** A status of `t` (`retained`: replayed by the broker, not the node heard). */
  status(t: TwinRecord, msg: StatusMessage, now: number, retained: boolean): RegistryEffect[] {
    if (msg.online && !retained) t.lastSeen = now; // a replayed retained `T1 1` is the broker's, not the node
    const presence = !msg.online ? "offline" : this.unheardSinceRestart(t) ? "unheard" : "online";
    const hadWrites = t.offlineWrites !== undefined;
    const moved: RegistryEffect[] = !setPresence(t, presence)
      ? []
      : [presence === "online" ? onlineEffect(t.id, hadWrites) : { type: presence, node: t.id }];
    return [...moved, ...presenceHeard(t, msg.online && retained)];
  }

  /**
   * The broker restarted; `since`: when the service connected to it again. The twins shown online
   * that sent nothing since are unheard from now: an effect for each.
   */
  restarted(twins: Iterable<TwinRecord>, since: number): RegistryEffect[] {
    this.restartedAt = since;
    const out: RegistryEffect[] = [];
    for (const t of twins) {
      if (t.presence !== "online" || !this.unheardSinceRestart(t)) continue;
      setPresence(t, "unheard");
      out.push({ type: "unheard", node: t.id });
    }
    return out;
  }
}

/**
 * Twins cut off with a lost cluster member (twins/member-loss.ts): those shown online are unheard from
 * now, until heard again (a live status) or their will comes. An effect for each.
 */
export function cutOff(twins: Iterable<TwinRecord | undefined>): RegistryEffect[] {
  const out: RegistryEffect[] = [];
  for (const t of twins)
    if (t?.presence === "online" && setPresence(t, "unheard")) out.push({ type: "unheard", node: t.id });
  return out;
}

/** The nodes an effect list took to `unheard`, sorted. */
export function unheardOf(effects: readonly RegistryEffect[]): NodeId[] {
  return effects.flatMap((e) => (e.type === "unheard" ? [e.node] : [])).sort();
}
